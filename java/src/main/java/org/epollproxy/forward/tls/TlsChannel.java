package org.epollproxy.forward.tls;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import org.epollproxy.forward.BufferPool;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.Kernel;

/**
 * One TLS connection on a non-blocking socket: a JDK {@link SSLEngine} and the two buffers of TLS records
 * between it and the socket ({@link TlsRecordBuffers}), records received and not yet decrypted ({@code in}) and
 * records made and not yet sent ({@code out}), held in the loop's pool buffers. No byte goes through the Java heap.
 *
 * <p>The forwarding code sees three moves that look like recv/send/shutdown: {@link #read} (plaintext or 0 at
 * the end of the client's stream or -errno), {@link #write} (plaintext taken, or -errno), {@link #shutdownOutput}
 * (close_notify, then FIN). Records that could not be sent at once wait in {@code out}
 * ({@link #outputPending}: the socket must be watched for EPOLLOUT and {@link #flush}ed); records received
 * but not yet decrypted because the caller's buffer was full wait in {@code in} ({@link #inputReady}: read
 * again without waiting for the socket). Loop thread only, except the engine's delegated tasks.
 */
public final class TlsChannel {
    /** {@link #handshake} outcomes. */
    public static final int DONE = 0;
    public static final int WANT_READ = 1;
    public static final int WANT_WRITE = 2;
    public static final int WANT_TASK = 3;
    /** The peer closed (FIN) before the handshake was over. */
    public static final int PEER_CLOSED = 4;

    private final SSLEngine engine;
    /** The session told to others (log line, /connections, PROXY protocol TLVs). */
    private final TlsSessionFacts facts;
    /** The listener's counters: this connection's bytes are added once, at {@link #release}. */
    private final TlsMetrics metrics;
    /** Written on the loop, read by a task thread ({@link TlsTasks}): a released channel's task is not run. */
    private volatile boolean released;
    /**
     * Its delegated tasks are handed to {@link TlsTasks} and not back yet: the engine is busy off the loop, and
     * holds its lock while a task runs (a signature, a certificate check), so the loop must not touch it.
     */
    private volatile boolean taskOut;
    /** {@code in} and {@code out}, the records between the engine and the socket. */
    private final TlsRecordBuffers records;
    /** The peer's close_notify came: its stream ended cleanly. */
    private boolean closeNotify;
    /** {@link #read} returned 0 for it: nothing more to read. */
    private boolean eofReported;
    /** The peer's FIN came without close_notify. */
    private boolean truncated;
    /** Our stream is to end: close_notify follows what waits in {@code out}, then shutdown(SHUT_WR). */
    private boolean shutPending;
    /** The close_notify record has been made (it waits in {@code out} or went). */
    private boolean closeNotifyMade;
    private boolean shutDone;
    /** What the engine refused (a bad record, an alert from the peer...), for the log; null if nothing. */
    private String failure;
    private long plainIn;
    private long plainOut;

    /** Sees the client's bytes before the engine reads them, until it has read the ClientHello ({@link #watchHello}). */
    public interface HelloWatch {
        /**
         * {@code [in, in+inLen)}: the bytes received and not yet read by the engine. True once done: no more calls.
         * An SSLException refuses the bytes: the handshake fails with its message, the engine never reads them.
         */
        boolean read(long in, int inLen) throws SSLException;

        /** The engine read {@code used} bytes from the start of them. */
        void consumed(int used);
    }

    /** {@code pool}: its buffers must hold a TLS record (about 16.4 KiB; TlsArgs checks --buffer-size). */
    public TlsChannel(SSLEngine engine, Kernel k, BufferPool pool, int fd, TlsMetrics metrics) throws SSLException {
        this.metrics = metrics;
        this.engine = engine;
        this.facts = new TlsSessionFacts(engine);
        this.records = new TlsRecordBuffers(engine, k, pool, fd);
        engine.beginHandshake();
    }

    public SSLEngine engine() {
        return engine;
    }

    /** Records read from the socket before this channel existed (the bytes read to choose a route). */
    public void feed(byte[] early) {
        records.feed(early);
    }

    /**
     * Server side, before the first {@link #handshake}: {@code w} sees the client's bytes before the engine
     * reads them, until it has read the ClientHello. For the name it asks for, which the key manager needs
     * before the engine has read it (JDK 25's check of a session ticket; see TlsServer#nameAsked).
     */
    public void watchHello(HelloWatch w) {
        records.hello = w;
    }

    // ---- the handshake ----

    /**
     * Drives the handshake as far as it goes without waiting: {@link #DONE}, {@link #WANT_READ},
     * {@link #WANT_WRITE}, {@link #WANT_TASK} (run {@link #runTasks}, then call again), {@link #PEER_CLOSED},
     * or -errno from the socket. An SSLException is the handshake failing: {@link #sendAlert} then close.
     */
    public int handshake() throws SSLException {
        while (true) {
            switch (engine.getHandshakeStatus()) {
                case NEED_TASK:
                    return WANT_TASK;
                case NEED_WRAP: {
                    if (outputPending()) {
                        int rc = flush();
                        if (rc == -Errno.EAGAIN) return WANT_WRITE;
                        if (rc < 0) return rc;
                    }
                    records.wrapControl();
                    int rc = flush();
                    if (rc == -Errno.EAGAIN) return WANT_WRITE;
                    if (rc < 0) return rc;
                    break;
                }
                case NEED_UNWRAP:
                case NEED_UNWRAP_AGAIN: {
                    if (records.inLen > 0 && records.unwrapHandshake()) break;
                    int n = recvMore();
                    if (n == -Errno.EAGAIN) return WANT_READ;
                    if (n == 0) return PEER_CLOSED;
                    if (n < 0) return n;
                    break;
                }
                default: { // FINISHED, NOT_HANDSHAKING: done once our last flight is out
                    records.hello = null; // a watch still waiting (bytes that looked like a second hello) ends with the handshake
                    int rc = flush();
                    if (rc == -Errno.EAGAIN) return WANT_WRITE;
                    return rc < 0 ? rc : DONE;
                }
            }
        }
    }

    /** The engine's delegated tasks (certificate checks, signatures): they may take milliseconds. Any thread. */
    public void runTasks() {
        Runnable t;
        while ((t = engine.getDelegatedTask()) != null) t.run();
    }

    /**
     * After a failed handshake: the alert the engine has for the peer, sent if the socket takes it now. Not while
     * a task has the engine ({@link TlsTasks}): the loop would wait for the task's lock, and every other
     * connection of the loop with it; the peer then gets the FIN (or RST) alone.
     */
    public void sendAlert() {
        if (taskOut) return;
        try {
            engine.closeOutbound();
            if (!outputPending()) records.wrapControl();
            flush();
        } catch (SSLException | RuntimeException e) {
            // the connection ends anyway; the alert is a courtesy
        }
    }

    // ---- application data ----

    /**
     * Decrypts into {@code [dst, dst+len)}: the plaintext bytes (> 0), 0 at the end of the peer's stream
     * (close_notify, or a FIN without it: {@link #truncated}), or -errno (-EAGAIN: nothing now; -EIO: the
     * engine refused a record, see {@link #failure}).
     */
    public int read(long dst, int len) {
        int total = 0;
        try {
            while (total < len) {
                if (closeNotify) {
                    if (total == 0) eofReported = true;
                    return total;
                }
                if (records.inLen == 0 || !records.wholeRecord()) {
                    if (total > 0) return total;
                    int n = recvMore();
                    if (n > 0) continue;
                    if (n == 0) return endOfStream();
                    return n;
                }
                SSLEngineResult r = records.unwrap(dst + total, len - total);
                total += r.bytesProduced();
                plainIn += r.bytesProduced();
                switch (r.getStatus()) {
                    case CLOSED:
                        closeNotify = true;
                        afterRecord(r);
                        return total;
                    case BUFFER_OVERFLOW:
                        return total > 0 ? total : fail("a record larger than the buffer (--buffer-size)");
                    case BUFFER_UNDERFLOW:
                        continue; // not reached: wholeRecord() said a record was there
                    default:
                        afterRecord(r);
                        if (r.bytesConsumed() == 0 && r.bytesProduced() == 0) return total > 0 ? total : -Errno.EAGAIN;
                }
            }
            return total;
        } catch (SSLException e) {
            return fail(e.getMessage());
        }
    }

    /** After a record: a key update, a TLS 1.2 close_notify reply or a session ticket may need an answer. */
    private void afterRecord(SSLEngineResult r) throws SSLException {
        SSLEngineResult.HandshakeStatus hs = r.getHandshakeStatus();
        if (hs == SSLEngineResult.HandshakeStatus.NEED_TASK) {
            runTasks();
            hs = engine.getHandshakeStatus();
        }
        if (hs == SSLEngineResult.HandshakeStatus.NEED_WRAP && !outputPending()) {
            records.wrapControl();
            flush(); // what does not go now waits in out (outputPending: the caller watches for EPOLLOUT)
        }
    }

    /** The peer's FIN: after close_notify, the clean end; without it, a truncation (logged as such). */
    private int endOfStream() {
        if (!closeNotify) {
            truncated = true;
            try {
                engine.closeInbound();
            } catch (SSLException e) {
                // "closing inbound before receiving peer's close_notify": exactly what truncated records
            }
        }
        return 0;
    }

    private int fail(String why) {
        if (failure == null) failure = why == null ? "TLS error" : why;
        return -Errno.EIO;
    }

    /**
     * Encrypts from {@code [src, src+len)}: the plaintext bytes taken (> 0; their records are sent or wait in
     * {@code out}), or -errno (-EAGAIN: earlier records still wait for the socket; -EPIPE: our side of TLS is
     * closed).
     */
    public int write(long src, int len) {
        if (outputPending()) {
            int rc = flush();
            if (rc < 0) return rc;
        }
        int taken = 0;
        boolean full = false; // the socket took only part of the records: no second send to hear EAGAIN again
        try {
            int record = engine.getSession().getPacketBufferSize();
            while (taken < len) {
                if (records.out != 0 && records.outEnd > 0 && records.size - records.outEnd < record) {
                    // No room for another record: send these and go on if the socket took them all. Stopping
                    // here instead would return a short take, which the caller reads as a full socket.
                    int rc = flush();
                    if (rc < 0 && rc != -Errno.EAGAIN) return rc;
                    if (outputPending()) {
                        full = true;
                        break;
                    }
                }
                SSLEngineResult r = records.wrap(src + taken, len - taken);
                if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
                    if (taken > 0) break;
                    records.giveOutIfEmpty();
                    return -Errno.EPIPE;
                }
                if (r.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
                    if (records.outEnd > 0) break;
                    return fail("a record larger than the buffer (--buffer-size)");
                }
                taken += r.bytesConsumed();
                records.outEnd += r.bytesProduced();
                if (r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_TASK) runTasks();
                if (r.bytesConsumed() == 0 && r.bytesProduced() == 0) break;
            }
        } catch (SSLException e) {
            return fail(e.getMessage());
        }
        plainOut += taken;
        int rc = full ? -Errno.EAGAIN : flush();
        if (rc < 0 && rc != -Errno.EAGAIN) return rc;
        return taken > 0 ? taken : -Errno.EAGAIN;
    }

    /**
     * Sends the records waiting in {@code out}: 0 when all went, or -errno. After {@link #shutdownOutput}: once
     * they went, close_notify, then the FIN.
     */
    public int flush() {
        int sent = records.send();
        if (sent < 0) return sent;
        if (shutPending && !shutDone) {
            if (!closeNotifyMade) {
                // Made only now, behind every record that waited: those may fill the buffer, and a close_notify
                // that did not fit would be lost, leaving the peer a FIN it must take for a cut stream.
                closeNotifyMade = true;
                try {
                    records.wrapControl();
                } catch (SSLException e) {
                    // no close_notify then: the FIN alone
                }
                sent = records.send();
                if (sent < 0) return sent;
            }
            shutDone = true;
            return records.shutdownWrite();
        }
        return 0;
    }

    /** Ends our stream: the records that wait, close_notify, then shutdown(SHUT_WR) once they are sent. 0, or -errno. */
    public int shutdownOutput() {
        engine.closeOutbound();
        shutPending = true;
        int rc = flush();
        return rc == -Errno.EAGAIN ? 0 : rc;
    }

    public boolean outputPending() {
        return records.outEnd > records.outStart || (shutPending && !shutDone);
    }

    /** A whole record waits in {@code in}: read it now, the socket will not say so (its bytes were already read). */
    public boolean inputReady() {
        return closeNotify ? !eofReported : records.wholeRecord(); // a close_notify read with the last data is an end still to report
    }

    /** recv into the free end of {@code in}: bytes read, 0 at FIN, -errno. */
    private int recvMore() {
        if (records.inLen == records.size) return fail("a TLS record larger than the buffer");
        return records.recvMore();
    }

    /** Whether {@link #release} was called: the connection ended (a task for it is not worth its CPU). */
    boolean released() {
        return released;
    }

    /** {@link TlsTasks}: the delegated tasks are off the loop ({@code true}) or handed back. */
    void taskOut(boolean out) {
        taskOut = out;
    }

    /** The connection ends: the buffers go back to the pool, whatever waited in them. */
    public void release() {
        if (!released) {
            released = true;
            metrics.closed(this);
        }
        records.release();
    }

    // ---- what it was ----

    public boolean truncated() {
        return truncated;
    }

    public boolean closeNotifyReceived() {
        return closeNotify;
    }

    public String failure() {
        return failure;
    }

    public long wireIn() {
        return records.wireIn;
    }

    public long wireOut() {
        return records.wireOut;
    }

    public long plainIn() {
        return plainIn;
    }

    public long plainOut() {
        return plainOut;
    }

    /** The client's requested server name, or null. */
    public String sni() {
        return facts.sni();
    }

    /** The client certificate's subject, or null if it sent none. */
    public String peerSubject() {
        return facts.peerSubject();
    }

    /** The PROXY protocol v2 records that tell the backend about this TLS connection ({@link TlsSessionFacts#proxyTlvs}). */
    public byte[] proxyTlvs() {
        return facts.proxyTlvs();
    }

    /** "TLSv1.3 TLS_AES_128_GCM_SHA256 alpn=h2" for /connections. */
    public String protocolText() {
        return facts.protocolText();
    }

    /** "TLSv1.3 TLS_AES_128_GCM_SHA256 alpn=h2 subject=CN=..." for the log line. */
    public String summary() {
        return facts.summary();
    }
}
