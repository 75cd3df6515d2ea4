package org.epollproxy.runtime;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.Settings;
import org.epollproxy.forward.Sockets;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.SockAddr;
import org.epollproxy.shim.SyscallException;

/**
 * The listening sockets of the forwards: one per loop and forward (SO_REUSEPORT when there are several
 * loops; one socket served by the first loop for a UNIX socket path), bound all or nothing.
 */
final class ListeningSockets {
    private final Kernel kernel;
    private final Settings settings;
    private final int loops;

    ListeningSockets(Kernel kernel, Settings settings, int loops) {
        this.kernel = kernel;
        this.settings = settings;
        this.loops = loops;
    }

    /** The forward as bound: the real port when 0 was asked for. */
    Forward bound(Forward requested, int[] fds) {
        // A UNIX socket keeps its path: getsockname would name the private directory it was bound in.
        if (requested.bind().isUnix()) return requested;
        return requested.boundTo(Sockets.localAddress(kernel, fds[0]));
    }

    /** Binds one socket per loop for each forward, all or none; keyed by the forward's requested key. */
    Map<String, int[]> bindEach(List<Forward> forwards, Map<String, int[]> inherited) {
        Map<String, int[]> out = new LinkedHashMap<>();
        try {
            for (Forward f : forwards) {
                if (out.containsKey(f.key())) throw new IllegalArgumentException("two forwards listen on " + f.key());
                int[] given = inherited.get(f.key());
                if (given != null && given.length != loops) {
                    throw new IllegalArgumentException(f.key() + ": " + given.length + " inherited sockets for " + loops + " loops");
                }
                out.put(f.key(), given != null ? given : bindAll(f.bind(), f.proto()));
            }
            return out;
        } catch (RuntimeException e) {
            for (int[] each : out.values()) for (int fd : each) if (fd >= 0) kernel.close(fd);
            for (Forward f : forwards) { // socket files this attempt created go too
                if (f.bind().isUnix() && out.containsKey(f.key()) && !inherited.containsKey(f.key())) {
                    org.epollproxy.forward.UnixSockets.remove(f.bind());
                }
            }
            throw e;
        }
    }

    /** One socket per loop for {@code addr}; with several loops they share it via SO_REUSEPORT. */
    private int[] bindAll(SockAddr addr, Forward.Proto proto) {
        int n = loops;
        int[] fds = new int[n];
        int done = 0;
        try {
            if (addr.isUnix()) { // one socket, served by the first loop (SO_REUSEPORT is for IP ports only)
                java.util.Arrays.fill(fds, -1);
                fds[0] = open(addr, proto, false);
                return fds;
            }
            if (n > 1 && addr.port() != 0) {
                // SO_REUSEPORT would let us silently join another process's group on this port;
                // a plain bind first proves the port is free.
                kernel.close(open(addr, proto, false));
            }
            SockAddr a = addr;
            for (; done < n; done++) {
                fds[done] = open(a, proto, n > 1);
                if (done == 0) a = Sockets.localAddress(kernel, fds[0]);
            }
            return fds;
        } catch (SyscallException e) {
            for (int i = 0; i < done; i++) kernel.close(fds[i]);
            throw e;
        }
    }

    private int open(SockAddr addr, Forward.Proto proto, boolean reusePort) {
        if (addr.isUnix()) return org.epollproxy.forward.UnixSockets.listen(kernel, addr, settings.backlog(), settings.unixMode());
        return proto == Forward.Proto.UDP ? Sockets.bindUdp(kernel, addr, reusePort)
                : Sockets.listenTcp(kernel, addr, reusePort, settings.backlog());
    }
}
