package org.epollproxy.forward.tls;

import java.nio.ByteBuffer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import org.epollproxy.forward.BufferPool;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.NativeMemory;
import org.epollproxy.shim.Net;

/**
 * The two buffers of TLS records between one connection's {@link SSLEngine} and its socket: records received
 * and not yet decrypted ({@code in}) and records made and not yet sent ({@code out}). Both are the loop's pool
 * buffers, seen by the engine through direct ByteBuffer views ({@link NativeMemory#view}): the socket reads
 * into them and writes from them with recv/send, and the engine decrypts straight into the caller's buffer and
 * encrypts straight from it. No byte goes through the Java heap. A buffer is held only while records wait in
 * it, as a {@code Direction} holds its own. What the records mean (handshake, data, close_notify) is
 * {@link TlsChannel}'s; this class moves them, counts the bytes on the wire and, server side, shows the
 * client's first bytes to the {@link TlsChannel.HelloWatch} before the engine reads them. Loop thread only.
 */
final class TlsRecordBuffers {
    /** A TLS record's header: type, version, length. */
    private static final int RECORD_HEADER = 5;
    private static final ByteBuffer EMPTY = ByteBuffer.allocateDirect(0);

    private final SSLEngine engine;
    private final Kernel k;
    private final BufferPool pool;
    private final int fd;
    final int size;
    /** {@code [in, in+inLen)}: records received, not yet read by the engine; {@code in} is 0 when none wait. */
    long in;
    int inLen;
    /** {@code [out+outStart, out+outEnd)}: records made, not yet sent; {@code out} is 0 when none wait. */
    long out;
    int outStart;
    int outEnd;
    long wireIn;
    long wireOut;
    /** Server side, until the ClientHello is read ({@link TlsChannel#watchHello}); null otherwise. */
    TlsChannel.HelloWatch hello;

    TlsRecordBuffers(SSLEngine engine, Kernel k, BufferPool pool, int fd) {
        this.engine = engine;
        this.k = k;
        this.pool = pool;
        this.fd = fd;
        this.size = pool.bufferSize();
    }

    /** Records read from the socket before this channel existed (the bytes read to choose a route). */
    void feed(byte[] early) {
        if (early == null || early.length == 0) return;
        if (in == 0) in = pool.take();
        int n = Math.min(early.length, size - inLen);
        NativeMemory.put(in + inLen, early, 0, n);
        inLen += n;
        wireIn += n;
    }

    /** Unwraps one handshake record; false if a whole record has not come yet. */
    boolean unwrapHandshake() throws SSLException {
        if (hello != null && hello.read(in, inLen)) hello = null;
        long scratch = pool.take(); // handshake records carry no application data, but the engine wants room
        try {
            SSLEngineResult r = unwrap(scratch, size);
            if (r.getStatus() == SSLEngineResult.Status.CLOSED) throw new SSLException("the client closed the connection during the handshake");
            if (r.bytesProduced() > 0) throw new SSLException("application data before the handshake finished");
            return r.getStatus() != SSLEngineResult.Status.BUFFER_UNDERFLOW;
        } finally {
            pool.give(scratch);
        }
    }

    boolean wholeRecord() {
        if (inLen < RECORD_HEADER) return false;
        byte[] h = new byte[2];
        NativeMemory.get(in + 3, h, 0, 2);
        return inLen >= RECORD_HEADER + (((h[0] & 0xff) << 8) | (h[1] & 0xff));
    }

    /** recv into the free end of {@code in}: bytes read, 0 at FIN, -errno. The caller checks that {@code in} is not full. */
    int recvMore() {
        if (in == 0) in = pool.take();
        int n = k.recv(fd, in + inLen, size - inLen);
        if (n > 0) {
            inLen += n;
            wireIn += n;
        } else if (inLen == 0) {
            pool.give(in);
            in = 0;
        }
        return n;
    }

    /** One unwrap of {@code in} into {@code dst}; the bytes it consumed leave {@code in}. */
    SSLEngineResult unwrap(long dst, int len) throws SSLException {
        SSLEngineResult r = engine.unwrap(NativeMemory.view(in, inLen), NativeMemory.view(dst, len));
        int used = r.bytesConsumed();
        if (used > 0) {
            NativeMemory.move(in + used, in, inLen - used);
            inLen -= used;
            if (hello != null) hello.consumed(used);
            if (inLen == 0) {
                pool.give(in);
                in = 0;
            }
        }
        return r;
    }

    /**
     * One wrap of {@code [src, src+len)} into the free end of {@code out} (taken from the pool if none waits);
     * the caller adds the bytes produced to {@code outEnd} if it keeps them.
     */
    SSLEngineResult wrap(long src, int len) throws SSLException {
        if (out == 0) {
            out = pool.take();
            outStart = outEnd = 0;
        }
        int room = size - outEnd;
        return engine.wrap(NativeMemory.view(src, len), NativeMemory.view(out + outEnd, room));
    }

    /** Wraps what the engine has to say by itself (handshake messages, alerts, close_notify) into {@code out}. */
    void wrapControl() throws SSLException {
        if (out == 0) {
            out = pool.take();
            outStart = outEnd = 0;
        }
        SSLEngineResult r = engine.wrap(EMPTY, NativeMemory.view(out + outEnd, size - outEnd));
        outEnd += r.bytesProduced();
        giveOutIfEmpty();
    }

    /** Sends the records waiting in {@code out}: 0 when all went, or -errno. */
    int send() {
        while (outEnd > outStart) {
            int n = k.send(fd, out + outStart, outEnd - outStart);
            if (n < 0) return n;
            outStart += n;
            wireOut += n;
        }
        giveOutIfEmpty();
        return 0;
    }

    /** shutdown(SHUT_WR): the FIN after our last record. 0, or -errno. */
    int shutdownWrite() {
        return k.shutdown(fd, Net.SHUT_WR);
    }

    void giveOutIfEmpty() {
        if (out != 0 && outEnd == outStart) {
            pool.give(out);
            out = 0;
            outStart = outEnd = 0;
        }
    }

    /** The connection ends: the buffers go back to the pool, whatever waited in them. */
    void release() {
        if (in != 0) pool.give(in);
        if (out != 0) pool.give(out);
        in = out = 0;
        inLen = outStart = outEnd = 0;
    }
}
