package org.epollproxy.forward.tcp;

import org.epollproxy.forward.PipePool;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.Net;

/**
 * The zero-copy path of one {@link Direction} ({@code --splice}): a non-blocking pipe that bytes cross
 * as {@code socket -> pipe -> socket} with splice(2), so they never enter user space.
 *
 * <p>The pipe is the loop's ({@link PipePool}), held only while bytes wait in it: taken by a {@link #fill}
 * and given back by the fill itself when nothing entered, or by {@link #giveBack} once the direction has
 * drained it. An idle connection holds none. The bytes in the pipe are accounted by the direction exactly
 * like bytes in a copy buffer ({@code end - start}): while any wait, the source is not read, which is the
 * same backpressure rule as the copy path.
 */
final class SplicePipe {
    /** SPLICE_F_MOVE: move pages rather than copy where the kernel can; SPLICE_F_NONBLOCK: never block on the pipe. */
    static final int FLAGS = Net.SPLICE_F_MOVE | Net.SPLICE_F_NONBLOCK;

    private final PipePool pool;
    /** The pipe held (read end << 32 | write end), or -1 when none is. */
    private long fds = -1;
    /** The last fill found no pipe (pipe2 failed: EMFILE, ENFILE). */
    private boolean noPipe;

    SplicePipe(PipePool pool) {
        this.pool = pool;
    }

    /**
     * splice(from -> pipe) of at most {@code len} bytes, taking a pipe first if none is held. Returns the
     * bytes moved, 0 at the source's FIN, or -errno (-EAGAIN: nothing to read). When nothing moved, the
     * (empty) pipe goes straight back to the pool. If no pipe could be had, returns pipe2's -errno and
     * {@link #noPipe()} is true.
     */
    int fill(Kernel k, int from, int len) {
        noPipe = false;
        if (fds < 0) {
            long p = pool.take(k);
            if (p < 0) {
                noPipe = true;
                return (int) p;
            }
            fds = p;
        }
        int n = k.splice(from, PipePool.writeEnd(fds), len, FLAGS);
        if (n <= 0) giveBack(k);
        return n;
    }

    boolean noPipe() {
        return noPipe;
    }

    /** splice(pipe -> to) of at most {@code len} bytes: bytes moved or -errno (-EAGAIN: {@code to} is full). */
    int drain(Kernel k, int to, int len) {
        return k.splice(PipePool.readEnd(fds), to, len, FLAGS);
    }

    /** Reads what the pipe holds into {@code buf} (for a fall back to the copy path); bytes or -errno. */
    int readInto(Kernel k, long buf, int len) {
        return k.read(PipePool.readEnd(fds), buf, len);
    }

    /** The held pipe's write end (for tests: its capacity), or -1 when none is held. */
    int writeFd() {
        return fds < 0 ? -1 : PipePool.writeEnd(fds);
    }

    /** The pipe is empty (everything spliced in was spliced or read out): back to the pool. Nothing if none is held. */
    void giveBack(Kernel k) {
        if (fds < 0) return;
        pool.give(k, fds);
        fds = -1;
    }

    /** The pair is closing with bytes maybe still in the pipe: closed, never reused. Nothing if none is held. */
    void discard(Kernel k) {
        if (fds < 0) return;
        pool.discard(k, fds);
        fds = -1;
    }
}
