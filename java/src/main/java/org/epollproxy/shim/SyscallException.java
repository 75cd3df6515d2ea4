package org.epollproxy.shim;

/**
 * An unexpected shim result: names the call, the errno's name and its strerror text, e.g.
 * {@code bind 127.0.0.1:80: EACCES (Permission denied)}. Expected outcomes (-EAGAIN, -EINPROGRESS,
 * -ECONNRESET on a data socket) are return values the caller branches on, never this.
 */
public final class SyscallException extends RuntimeException {
    private final int errno;

    public SyscallException(String call, int rc) {
        super(call + ": " + Errno.describe(rc));
        this.errno = Math.abs(rc);
    }

    /** The positive errno value. */
    public int errno() {
        return errno;
    }

    /** Returns rc if it is a success (>= 0), else throws naming {@code call}. */
    public static int check(int rc, String call) {
        if (rc < 0) throw new SyscallException(call, rc);
        return rc;
    }
}
