package org.epollproxy.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.Sockets;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.Net;
import org.epollproxy.shim.SockAddr;
import org.epollproxy.shim.SyscallException;

/**
 * systemd socket activation (sd_listen_fds(3)): the manager passes listening sockets from fd 3 on, with
 * {@code LISTEN_FDS} (how many), {@code LISTEN_PID} (the process they are for: ignored unless it is us)
 * and {@code LISTEN_FDNAMES}. Each socket is matched to the forward with the same protocol and address
 * (getsockname, SO_TYPE, SO_ACCEPTCONN); a forward without a socket, or a socket without a forward, is
 * refused with a message naming it. The JVM cannot unset its environment; it starts no process that
 * could inherit it, and the sockets get FD_CLOEXEC.
 */
final class SocketActivation {
    static final int FIRST_FD = 3; // SD_LISTEN_FDS_START

    /** The activation is wrong for these forwards: exit 2 with the message (restarting cannot fix it). */
    static final class Mismatch extends Exception {
        Mismatch(String msg) {
            super(msg);
        }
    }

    /** How many sockets systemd passed to this process: 0 when LISTEN_PID is not ours (or unset). */
    static int count(Map<String, String> env, long pid) throws Mismatch {
        String fds = env.get("LISTEN_FDS");
        String forPid = env.get("LISTEN_PID");
        if (fds == null || forPid == null || !forPid.trim().equals(Long.toString(pid))) return 0;
        try {
            int n = Integer.parseInt(fds.trim());
            if (n < 0 || n > 4096) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new Mismatch("socket activation: LISTEN_FDS=" + fds + " is not a number of sockets");
        }
    }

    /**
     * Matches fds {@code 3 .. 3+n-1} to {@code forwards}; returns them by forward key (one fd each: one loop).
     * Every fd is made non-blocking and close-on-exec.
     */
    static Map<String, int[]> adopt(Kernel k, int n, String names, List<Forward> forwards) throws Mismatch {
        String[] name = names == null ? new String[0] : names.split(":", -1);
        Map<String, Forward> byKey = new LinkedHashMap<>();
        for (Forward f : forwards) byKey.put(f.key(), f);
        Map<String, int[]> out = new LinkedHashMap<>();
        List<String> stray = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int fd = FIRST_FD + i;
            String label = "fd " + fd + (i < name.length && !name[i].isEmpty() ? " (" + name[i] + ")" : "");
            String key = keyOf(k, fd, label);
            if (!byKey.containsKey(key)) {
                stray.add(label + " " + key);
                continue;
            }
            if (out.containsKey(key)) throw new Mismatch("socket activation: two sockets for " + key);
            check(k.set_nonblocking(fd), label, "O_NONBLOCK");
            check(k.set_cloexec(fd), label, "FD_CLOEXEC");
            out.put(key, new int[] {fd});
        }
        if (!stray.isEmpty()) {
            throw new Mismatch("socket activation: " + String.join(", ", stray) + " matches no forward (-L, -U or --config)");
        }
        List<String> missing = new ArrayList<>();
        for (String key : byKey.keySet()) if (!out.containsKey(key)) missing.add(key);
        if (!missing.isEmpty()) {
            throw new Mismatch("socket activation: no socket from systemd (LISTEN_FDS=" + n + ") for " + String.join(", ", missing)
                    + "; add a ListenStream=/ListenDatagram= with that address to the .socket unit");
        }
        return out;
    }

    /** "tcp 127.0.0.1:9000" for a listening stream socket, "udp ..." for a datagram socket. */
    private static String keyOf(Kernel k, int fd, String label) throws Mismatch {
        int type = k.getsockopt_int(fd, Net.SOL_SOCKET, Net.SO_TYPE);
        if (type == -Errno.EBADF) throw new Mismatch("socket activation: " + label + " is not open");
        if (type < 0) throw new Mismatch("socket activation: " + label + " is not a socket: " + Errno.describe(type));
        SockAddr a;
        try {
            a = Sockets.localAddress(k, fd);
        } catch (SyscallException | IllegalArgumentException e) {
            throw new Mismatch("socket activation: " + label + " is not an IP socket: " + e.getMessage());
        }
        if (a.family() != Net.AF_INET && a.family() != Net.AF_INET6) {
            throw new Mismatch("socket activation: " + label + " is not an IPv4 or IPv6 socket (family " + a.family() + ")");
        }
        if (type == Net.SOCK_STREAM) {
            if (k.getsockopt_int(fd, Net.SOL_SOCKET, Net.SO_ACCEPTCONN) != 1) {
                throw new Mismatch("socket activation: " + label + " " + a + " is a stream socket that does not listen (Accept=yes?)");
            }
            return "tcp " + a;
        }
        if (type == Net.SOCK_DGRAM) return "udp " + a;
        throw new Mismatch("socket activation: " + label + " " + a + " is neither a stream nor a datagram socket");
    }

    private static void check(int rc, String label, String what) throws Mismatch {
        if (rc < 0) throw new Mismatch("socket activation: " + label + ": " + what + ": " + Errno.describe(rc));
    }

    private SocketActivation() {}
}
