package org.epollproxy.forward.tcp;

import org.epollproxy.forward.BufferPool;
import org.epollproxy.forward.PipePool;
import org.epollproxy.loop.SendCompletion;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.NativeMemory;
import org.epollproxy.shim.Net;

/**
 * One direction of a pair (client to backend, or backend to client): the bytes read from {@code from}
 * and not yet sent to {@code to}, and whether {@code from}'s FIN was seen and passed on.
 *
 * <p>It hides how the bytes wait: in a pool buffer (the copy path: recv, then send) or in a pipe
 * ({@code --splice}: splice in, splice out, never entering user space; with --splice small transfers
 * still take the copy path, see {@link #spliceNext}). {@link #fill}, {@link #drain}
 * and {@link #shut} are the same three moves for both, so {@link Pair}'s state machine is written once;
 * {@code [start, end)} counts the waiting bytes either way, and every rule built on it (pending,
 * wantsRead, the interest masks) holds unchanged for both paths.
 *
 * <p>A buffer is taken from the pool only for the span of a recv/send and kept only while bytes wait;
 * {@code from} is read only when this direction holds nothing (backpressure: a slow {@code to} stops us
 * reading {@code from}, so memory per direction never exceeds one buffer).
 *
 * <p>On a loop that runs on io_uring ({@code --io-uring}) the copy path's send is handed to the kernel
 * instead ({@link #sendAsync}): the bytes count as waiting until the kernel says they went, and the buffer
 * stays the kernel's until then, even if the pair closes first ({@link #release}).
 */
final class Direction implements SendCompletion {
    final Side from;
    final Side to;
    private final Pair pair;
    /** Native address of the buffer holding bytes [start, end), or 0 when none is held. */
    private long buf;
    /** The zero-copy path ({@code --splice}); null for the copy path, or after falling back to it. */
    private SplicePipe pipe;
    /**
     * With a pipe: the next fill splices. A direction starts by copying, splices once a recv brought at
     * least {@link #smallSplice} bytes (a bulk stream), and copies again after a splice that moved fewer.
     * Small messages cost less through recv and send than through a pipe (haproxy's splice-auto makes the
     * same choice).
     */
    private boolean spliceNext;
    /** {@code buf}'s bytes [0, headerEnd) are the PROXY protocol header: ours, sent before any byte of {@code from}, not counted. */
    private int headerEnd;
    private int start;
    private int end;
    /** recv on {@code from} returned 0. */
    boolean eof;
    /** shutdown(to, SHUT_WR) was done, after the buffer drained. */
    boolean finSent;
    /** The handle of the io_uring send of [start, end) in flight, or -1 (none). */
    private int sending = -1;
    /** A buffer the kernel still sends from although the pair closed: back to the pool when the send ends. */
    private long orphan;
    /** Bytes read from {@code from} / sent to {@code to}. */
    long bytesIn;
    long bytesOut;
    /** The part of {@code bytesOut} that went through the pipe (zero-copy). */
    long bytesSpliced;

    /** {@code pipes}: the loop's pipes for the splice path ({@code --splice}), null for the copy path. */
    Direction(Pair pair, Side from, Side to, PipePool pipes) {
        this.pair = pair;
        this.from = from;
        this.to = to;
        if (pipes != null && from.tls == null && to.tls == null) pipe = new SplicePipe(pipes); // TLS bytes pass through the engine
    }

    boolean pending() {
        return end > start;
    }

    int pendingBytes() {
        return end - start;
    }

    /** A send of what waits is in the kernel's hands (io_uring): nothing to do until it ends. */
    boolean sending() {
        return sending >= 0;
    }

    /**
     * The next send goes through the loop's ring: the copy path (a buffer, no TLS) on an io_uring loop, for
     * less than a quarter of the buffer (8 KiB at the default): a message, where the syscall is most of the
     * cost. More is a bulk stream, sent at once with send(2) as on epoll: the pair then reads on in the same
     * event, where a send through the ring makes the next read wait for its completion and a poll armed
     * after it, two iterations (one send in flight per direction held bulk to 0.7-0.8 of the epoll loop's
     * rate), and the syscall is small beside the copying.
     */
    boolean canSendAsync() {
        return pair.loop.sendsAsync() && buf != 0 && to.tls == null && end - start < pair.pool().bufferSize() / 4;
    }

    /** Hands the send of all that waits to the kernel; {@link #onSent} continues once it ended. */
    void sendAsync() {
        sending = pair.loop.sendAsync(to.fd, buf + start, end - start, this);
    }

    @Override
    public void onSent(int result) {
        sending = -1;
        if (orphan != 0) { // the pair closed while the kernel held the buffer
            pair.pool().give(orphan);
            orphan = 0;
            return;
        }
        pair.sent(this, result);
    }

    @Override
    public void onFailure(RuntimeException e) {
        PairEnd.fail(pair, e);
    }

    /** {@code from} may be read now: no FIN yet and nothing waiting to be sent. */
    boolean wantsRead() {
        return !eof && end == start;
    }

    /** Nothing more will ever cross this direction. */
    boolean done() {
        return finSent && (to.tls == null || !to.tls.outputPending()); // a TLS close_notify must go out first
    }

    /** The splice pipe's write end, -1 when none is held (for tests). */
    int pipeFd() {
        return pipe != null ? pipe.writeFd() : -1;
    }

    /** Bytes cross through a splice pipe now (not the copy path). */
    boolean splicing() {
        return pipe != null && spliceNext;
    }

    /**
     * Where a transfer stops being small: one page (4 KiB), or a quarter of the buffer if that is less.
     * Not a fraction of the buffer alone: a splice moves at most what the pipe holds, and a pipe may hold
     * as little as one page (a small --pipe-size, or the kernel's default once the user passed
     * pipe-user-pages-soft), so with a large buffer every splice of a bulk stream would look small.
     */
    static int smallSplice(int bufferSize) {
        return Math.min(bufferSize / 4, 4096);
    }

    /**
     * Puts {@code header} (the PROXY protocol header) in a buffer of its own: it is the first thing
     * {@link #drain}ed, and while it waits the direction is not empty, so nothing of {@code from} is read
     * before it. Not counted as forwarded bytes.
     */
    void queueHeader(byte[] header) {
        queueFirst(header, new byte[0]);
    }

    /**
     * As {@link #queueHeader}, followed by {@code early}: bytes of {@code from} already read (those that came
     * in the same read as the client's own PROXY header, with --accept-proxy); those are counted as forwarded.
     * Both together fit a pool buffer (ForwardingLoop sizes it for two headers at least).
     */
    void queueFirst(byte[] header, byte[] early) {
        buf = pair.pool().take();
        NativeMemory.put(buf, header, 0, header.length);
        NativeMemory.put(buf + header.length, early, 0, early.length);
        start = 0;
        end = header.length + early.length;
        headerEnd = header.length;
        bytesIn += early.length;
    }

    /**
     * Reads from {@code from} into this empty direction: the bytes now waiting (> 0), 0 at {@code from}'s
     * FIN, or -errno (-EAGAIN: nothing now). On the splice path, EINVAL (this socket cannot splice) or no
     * pipe (EMFILE) sends this direction down the copy path for the rest of the connection.
     */
    int fill() {
        Kernel k = pair.kernel();
        BufferPool pool = pair.pool();
        int size = pool.bufferSize();
        int n;
        if (pipe != null && spliceNext) {
            n = pipe.fill(k, from.fd, size);
            if (n <= 0 && (n == -Errno.EINVAL || pipe.noPipe())) {
                fallBackToCopy();
                return fill();
            }
            if (n > 0 && n < smallSplice(size)) spliceNext = false;
        } else {
            long b = pool.take();
            buf = b; // owned by the direction at once, so release() returns it even if recv throws
            n = from.tls != null ? from.tls.read(b, size) : k.recv(from.fd, b, size);
            if (n <= 0) {
                buf = 0;
                pool.give(b);
            }
            if (pipe != null && n >= smallSplice(size)) spliceNext = true;
        }
        if (n > 0) {
            start = 0;
            end = n;
            bytesIn += n;
        }
        return n;
    }

    /**
     * One send (or splice) of what waits to {@code to}: the bytes taken (maybe fewer than waited), or
     * -errno (-EAGAIN: {@code to} is full). Splice refused with bytes in the pipe moves them to a buffer
     * and goes on with the copy path. Once nothing waits, the buffer goes back to the pool.
     */
    int drain() {
        int len = end - start;
        int n = buf == 0 ? pipe.drain(pair.kernel(), to.fd, len)
                : to.tls != null ? to.tls.write(buf + start, len) : pair.kernel().send(to.fd, buf + start, len);
        if (n == -Errno.EINVAL && buf == 0 && pipeToBuffer()) return drain();
        if (n < 0) return n;
        taken(n);
        return n;
    }

    /** {@code n} of the waiting bytes went to {@code to}. */
    void taken(int n) {
        bytesOut += n - Math.max(0, Math.min(n, headerEnd - start)); // the header's bytes are not counted
        start += n;
        if (buf == 0) bytesSpliced += n;
        if (start == end) emptied();
    }

    /** shutdown(to, SHUT_WR): passes {@code from}'s FIN on. 0 or -errno. */
    int shut() {
        if (to.tls != null) return to.tls.shutdownOutput(); // close_notify first, then the FIN
        return pair.kernel().shutdown(to.fd, Net.SHUT_WR);
    }

    private void emptied() {
        if (buf != 0) {
            pair.pool().give(buf);
            buf = 0;
            headerEnd = 0;
        } else if (pipe != null) {
            pipe.giveBack(pair.kernel()); // everything spliced in was spliced out: the pipe is empty
        }
        start = end = 0;
    }

    /** The copy path from now on: the pipe (empty) goes back to the loop's pool and the fall back is counted. */
    private void fallBackToCopy() {
        pipe.giveBack(pair.kernel());
        pipe = null;
        pair.stats().spliceFallbacks++;
    }

    /**
     * splice(pipe -> to) was refused with bytes in the pipe: read them into a buffer (they fit, a fill
     * never exceeds the buffer size) and go on with the copy path. False if that failed too.
     */
    private boolean pipeToBuffer() {
        BufferPool pool = pair.pool();
        long b = pool.take();
        int len = end - start;
        if (pipe.readInto(pair.kernel(), b, len) != len) {
            pool.give(b);
            return false;
        }
        buf = b;
        start = 0;
        end = len;
        fallBackToCopy();
        return true;
    }

    /**
     * The pair is closing: the buffer goes back to the pool, whatever waited; the pipe too if it is empty,
     * and is closed if bytes may wait in it (so none can reach another connection).
     */
    void release() {
        boolean bytesInPipe = buf == 0 && end > start;
        if (sending >= 0) { // the kernel reads the buffer until its send ends: cancel it, free the buffer then
            orphan = buf;
            pair.loop.cancelSend(sending);
        } else if (buf != 0) {
            pair.pool().give(buf);
        }
        buf = 0;
        start = end = 0;
        if (pipe != null) {
            if (bytesInPipe) pipe.discard(pair.kernel());
            else pipe.giveBack(pair.kernel());
        }
    }
}
