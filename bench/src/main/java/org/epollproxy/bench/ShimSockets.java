package org.epollproxy.bench;

import java.util.concurrent.TimeUnit;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.NativeBuffer;
import org.epollproxy.shim.Net;
import org.epollproxy.shim.SockAddr;

/** Sockets the syscall benchmarks measure on, made through the shim in their setup. */
final class ShimSockets {

    /**
     * A connected loopback TCP pair, both ends non-blocking: a client connected to {@code at} and the socket
     * {@code listenFd} (non-blocking, listening on {@code at}) accepted for it.
     */
    static int[] connectedPair(Kernel k, int listenFd, SockAddr at) {
        int c = check(k.socket(Net.AF_INET, Net.SOCK_STREAM | Net.SOCK_NONBLOCK, 0), "socket");
        NativeBuffer addr = NativeBuffer.allocate(SockAddr.SIZE);
        at.write(addr.buffer(), 0);
        int rc = k.connect(c, addr.address());
        if (rc != 0 && rc != -Errno.EINPROGRESS) check(rc, "connect");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        int s;
        while ((s = k.accept(listenFd, 0)) == -Errno.EAGAIN) {
            if (System.nanoTime() > deadline) throw new IllegalStateException("accept timed out");
            Thread.onSpinWait();
        }
        check(s, "accept");
        return new int[] {c, s};
    }

    /** {@code rc}, unless it is a negative errno: then the setup fails, naming the call. */
    static int check(int rc, String call) {
        if (rc < 0) throw new IllegalStateException(call + ": " + Errno.describe(rc));
        return rc;
    }

    private ShimSockets() {}
}
