package org.epollproxy.forward;

import java.lang.ref.Reference;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.NativeBuffer;
import org.epollproxy.shim.Net;
import org.epollproxy.shim.SockAddr;
import org.epollproxy.shim.SyscallException;

/** Socket set-up outside the hot path: listening sockets, options of forwarded sockets, local addresses. */
public final class Sockets {

    /**
     * A non-blocking, close-on-exec TCP socket bound to {@code addr} and listening. SO_REUSEADDR lets a
     * restarted proxy bind while old connections sit in TIME_WAIT; SO_REUSEPORT only when several loops
     * share the port. An IPv6 wildcard is dual-stack unless the system says otherwise. Throws
     * {@link SyscallException} naming the address: {@code bind 127.0.0.1:80: EACCES (Permission denied)}.
     */
    public static int listenTcp(Kernel k, SockAddr addr, boolean reusePort, int backlog) {
        return open(k, addr, Net.SOCK_STREAM, reusePort, backlog);
    }

    /** A non-blocking UDP socket bound to {@code addr}. */
    public static int bindUdp(Kernel k, SockAddr addr, boolean reusePort) {
        return open(k, addr, Net.SOCK_DGRAM, reusePort, -1);
    }

    private static int open(Kernel k, SockAddr addr, int type, boolean reusePort, int backlog) {
        int fd = k.socket(addr.isIpv6() ? Net.AF_INET6 : Net.AF_INET, type | Net.SOCK_NONBLOCK | Net.SOCK_CLOEXEC, 0);
        if (fd < 0) throw new SyscallException("socket for " + addr, fd);
        try {
            check(k.setsockopt_int(fd, Net.SOL_SOCKET, Net.SO_REUSEADDR, 1), "setsockopt SO_REUSEADDR", addr);
            if (reusePort) check(k.setsockopt_int(fd, Net.SOL_SOCKET, Net.SO_REUSEPORT, 1), "setsockopt SO_REUSEPORT", addr);
            NativeBuffer buf = NativeBuffer.allocate(SockAddr.SIZE);
            addr.write(buf.buffer(), 0);
            int rc = k.bind(fd, buf.address());
            // bind holds only the address: compiled code may drop buf once it is read, and a collection during
            // the call then frees the memory bind reads (malloc's free-list pointer as the family: EAFNOSUPPORT).
            Reference.reachabilityFence(buf);
            check(rc, "bind", addr);
            if (backlog > 0) check(k.listen(fd, backlog), "listen", addr);
            return fd;
        } catch (SyscallException e) {
            k.close(fd);
            throw e;
        }
    }

    private static void check(int rc, String call, SockAddr addr) {
        if (rc < 0) throw new SyscallException(call + " " + addr, rc);
    }

    /**
     * Options every forwarded TCP socket gets: no Nagle delay (writes are passed through as they come),
     * and SO_KEEPALIVE with {@code --keepalive}, so dead peers are noticed.
     */
    public static void tuneStream(Kernel k, int fd, Settings settings) {
        tuneAccepted(k, fd, settings, false);
    }

    /**
     * {@link #tuneStream} for a socket a listener accepted: TCP_NODELAY only if it did not come with it
     * ({@code nodelayInherited}: set on the listener, which accepted sockets copy).
     */
    public static void tuneAccepted(Kernel k, int fd, Settings settings, boolean nodelayInherited) {
        if (!nodelayInherited) k.setsockopt_int(fd, Net.IPPROTO_TCP, Net.TCP_NODELAY, 1);
        if (settings.keepalive()) k.setsockopt_int(fd, Net.SOL_SOCKET, Net.SO_KEEPALIVE, 1);
    }

    /** The address a socket is bound to (the real port after binding port 0). */
    public static SockAddr localAddress(Kernel k, int fd) {
        NativeBuffer buf = NativeBuffer.allocate(SockAddr.SIZE);
        SyscallException.check(k.getsockname(fd, buf.address()), "getsockname");
        return SockAddr.read(buf.buffer(), 0);
    }

    private Sockets() {}
}
