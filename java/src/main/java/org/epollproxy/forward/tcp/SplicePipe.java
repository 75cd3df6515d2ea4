package org.epollproxy.forward.tcp;

import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.Net;

/**
 * The zero-copy path of one {@link Direction} ({@code --splice}): a non-blocking pipe that bytes cross
 * as {@code socket -> pipe -> socket} with splice(2), so they never enter user space.
 *
 * <p>The pipe is opened on the first {@link #fill}, so a direction that never carries a byte costs no
 * fds, and closed with its pair ({@link #close}, exactly once). The bytes in the pipe are accounted by
 * the direction exactly like bytes in a copy buffer ({@code end - start}): while any wait, the source
 * is not read, which is the same backpressure rule as the copy path.
 */
final class SplicePipe {
    /** SPLICE_F_MOVE: move pages rather than copy where the kernel can; SPLICE_F_NONBLOCK: never block on the pipe. */
    static final int FLAGS = Net.SPLICE_F_MOVE | Net.SPLICE_F_NONBLOCK;

    /** {@code --pipe-size}: the capacity asked for each new pipe (F_SETPIPE_SZ), 0 for the kernel's default. */
    private final int size;
    private int readFd = -1;
    private int writeFd = -1;

    SplicePipe(int size) {
        this.size = size;
    }

    boolean isOpen() {
        return writeFd >= 0;
    }

    /**
     * splice(from -> pipe) of at most {@code len} bytes, opening the pipe first if needed. Returns the
     * bytes moved, 0 at the source's FIN, or -errno (-EAGAIN: nothing to read). If the pipe cannot be
     * opened, returns pipe2's -errno and {@link #isOpen()} stays false.
     */
    int fill(Kernel k, int from, int len) {
        if (writeFd < 0) {
            long fds = k.pipe2();
            if (fds < 0) return (int) fds;
            readFd = (int) (fds >>> 32);
            writeFd = (int) fds;
            // Refused (past the user's pipe pages, or a size start-up did not check): the pipe keeps the
            // kernel's default capacity and works the same. A fill never exceeds the buffer size either way.
            if (size > 0) k.set_pipe_size(writeFd, size);
        }
        return k.splice(from, writeFd, len, FLAGS);
    }

    /** splice(pipe -> to) of at most {@code len} bytes: bytes moved or -errno (-EAGAIN: {@code to} is full). */
    int drain(Kernel k, int to, int len) {
        return k.splice(readFd, to, len, FLAGS);
    }

    /** Reads what the pipe holds into {@code buf} (for a fall back to the copy path); bytes or -errno. */
    int readInto(Kernel k, long buf, int len) {
        return k.read(readFd, buf, len);
    }

    /** The pipe's write end (for tests: its capacity), or -1 before the first fill. */
    int writeFd() {
        return writeFd;
    }

    /** Closes both ends, once; later calls do nothing. */
    void close(Kernel k) {
        if (readFd >= 0) k.close(readFd);
        if (writeFd >= 0) k.close(writeFd);
        readFd = writeFd = -1;
    }
}
