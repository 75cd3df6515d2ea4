package org.epollproxy.runtime;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.UnixSockets;
import org.epollproxy.shim.Epoll;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.NativeBuffer;
import org.epollproxy.shim.Net;
import org.epollproxy.shim.SockAddr;

/**
 * {@code --takeover PATH}, the new process's side. The protocol, LF-terminated ASCII lines of at most 512
 * bytes over the running process's {@code --control} socket:
 *
 * <pre>
 * new: takeover 1 threads=N                       its --threads
 * new: listen tcp 127.0.0.1:9000                  one line per forward, its protocol and listening address
 * new: end
 * old: error TEXT                                 refused (forwards or threads differ, ...): it serves on
 *  or: fd I tcp 127.0.0.1:9000                    per forward and loop I, the listening socket (SCM_RIGHTS)
 *      end
 * new: ok                                         it serves the sockets now; the old process drains
 * </pre>
 *
 * Both processes accept on the same sockets until the old one closes its copies, so no connection is
 * refused: the kernel queues them in the shared backlog. If the new process hangs up before "ok", the old
 * one keeps serving.
 */
public final class Takeover implements AutoCloseable {
    /** Why the takeover failed; the message names the path and the reason. */
    public static final class TakeoverException extends Exception {
        TakeoverException(String msg) {
            super(msg);
        }
    }

    private final Kernel k;
    private final ControlChannel ch;
    private final Map<String, int[]> sockets;
    /** The UNIX socket paths among the forwards: their files are ours to remove once we serve them. */
    private final List<String> unixPaths;
    private final String path;
    /** The running process's pid (SO_PEERCRED), or negative if the kernel did not say. */
    private final int peerPid;
    private boolean used;

    private Takeover(Kernel k, ControlChannel ch, Map<String, int[]> sockets, List<String> unixPaths, String path, int peerPid) {
        this.k = k;
        this.ch = ch;
        this.sockets = sockets;
        this.unixPaths = unixPaths;
        this.path = path;
        this.peerPid = peerPid;
    }

    /**
     * For the log once confirmed: "took over 2 listening socket(s) (tcp 127.0.0.1:9000, udp 127.0.0.1:53)
     * from pid 4242 through /run/epoll-proxy.ctl", counting one socket per forward and loop.
     */
    public String describe() {
        int n = 0;
        for (int[] perLoop : sockets.values()) for (int fd : perLoop) if (fd >= 0) n++;
        return "took over " + n + " listening socket(s) (" + String.join(", ", sockets.keySet()) + ") from "
                + (peerPid > 0 ? "pid " + peerPid : "the process") + " through " + path;
    }

    /** The sockets received, by forward key, one per loop; hand them to {@link ProxyServer#start(List, Map)}. */
    public Map<String, int[]> sockets() {
        return sockets;
    }

    /** Asks the process behind {@code path} for the listening sockets of {@code forwards}; waits at most {@code timeoutMs}. */
    public static Takeover request(Kernel k, String path, int threads, List<Forward> forwards, long timeoutMs) throws TakeoverException {
        String where = "--takeover " + path + ": ";
        int fd = k.socket(Net.AF_UNIX, Net.SOCK_STREAM | Net.SOCK_CLOEXEC, 0);
        if (fd < 0) throw new TakeoverException(where + "socket: " + Errno.describe(fd));
        NativeBuffer addr;
        try {
            addr = ControlServer.unixAddress(path);
        } catch (IllegalStateException e) {
            k.close(fd);
            throw new TakeoverException(e.getMessage());
        }
        int rc = k.connect(fd, addr.address());
        java.lang.ref.Reference.reachabilityFence(addr);
        if (rc < 0) {
            k.close(fd);
            throw new TakeoverException(where + "connect: " + Errno.describe(rc)
                    + (rc == -Errno.ECONNREFUSED || rc == -Errno.ENOENT ? " (is a process running with --control " + path + "?)" : ""));
        }
        ControlChannel ch = new ControlChannel(k, fd);
        try (Epoll ep = Epoll.open(k, 4)) {
            int uid = k.peer_uid(fd);
            if (uid != k.getuid()) throw new TakeoverException(where + "the process there runs as uid " + uid + ", we as " + k.getuid());
            int peerPid = k.peer_pid(fd);
            SyscallCheck.ok(k.set_nonblocking(fd), where + "O_NONBLOCK");
            ep.add(fd, Epoll.EPOLLIN, 1);
            ch.send("takeover 1 threads=" + threads, -1);
            for (Forward f : forwards) ch.send("listen " + f.key(), -1);
            ch.send("end", -1);
            long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
            try {
                while (!ch.flush()) waitFor(k, ep, fd, Epoll.EPOLLOUT, deadline, where);
            } catch (org.epollproxy.shim.SyscallException e) {
                // The running process may refuse after our first line and hang up while we still send
                // (EPIPE): its reason is already in our receive queue, and it is what the operator needs.
                String reason = refusalLeftBehind(ch);
                if (reason != null) throw new TakeoverException(where + "the running process refused: " + ControlChannel.printable(reason));
                throw e;
            }
            Map<String, int[]> got = new LinkedHashMap<>();
            Map<String, Forward> byKey = new LinkedHashMap<>();
            for (Forward f : forwards) {
                got.put(f.key(), filled(threads));
                byKey.put(f.key(), f);
            }
            while (true) {
                String line;
                while ((line = ch.nextLine()) != null) {
                    if (line.startsWith("error ")) {
                        throw new TakeoverException(where + "the running process refused: " + ControlChannel.printable(line.substring(6)));
                    }
                    if (line.equals("end")) return complete(k, ch, got, forwards, where, path, peerPid);
                    String[] w = line.split(" ", 3);
                    if (w.length != 3 || !w[0].equals("fd")) throw new TakeoverException(where + "unexpected '" + ControlChannel.printable(line) + "'");
                    int socket = ch.takeFd();
                    int[] slots = got.get(w[2]);
                    int i = w[1].matches("[0-9]{1,3}") ? Integer.parseInt(w[1]) : -1; // --threads is at most 256
                    if (slots == null || i < 0 || i >= threads || slots[i] >= 0) {
                        k.close(socket);
                        throw new TakeoverException(where + "a socket we did not ask for: " + ControlChannel.printable(line));
                    }
                    String wrong = wrongSocket(k, socket, byKey.get(w[2]));
                    if (wrong != null) {
                        k.close(socket);
                        throw new TakeoverException(where + "the socket that came for " + w[2] + " (loop " + i + ") " + wrong);
                    }
                    slots[i] = socket;
                }
                if (ch.eof()) throw new TakeoverException(where + "the running process hung up");
                waitFor(k, ep, fd, Epoll.EPOLLIN, deadline, where);
                int r = ch.read();
                if (r < 0) throw new TakeoverException(where + "read: " + Errno.describe(r));
            }
        } catch (TakeoverException | RuntimeException e) {
            ch.close();
            throw e instanceof TakeoverException te ? te : new TakeoverException(where + e.getMessage());
        }
    }

    /** The reason of an "error" line the peer sent before it hung up, or null. */
    private static String refusalLeftBehind(ControlChannel ch) {
        if (ch.read() < 0) return null;
        for (String line; (line = ch.nextLine()) != null; ) if (line.startsWith("error ")) return line.substring(6);
        return null;
    }

    /**
     * Why {@code fd} cannot serve {@code f}, or null: a TCP forward takes a listening stream socket, a UDP
     * forward a datagram socket, of the forward's address family. Checked before serving, so that a process at
     * the control path that hands over something else (another version, another program) is refused by name.
     */
    private static String wrongSocket(Kernel k, int fd, Forward f) {
        int type = k.getsockopt_int(fd, org.epollproxy.shim.Net.SOL_SOCKET, org.epollproxy.shim.Net.SO_TYPE);
        if (type < 0) return "is not a socket: " + Errno.describe(type);
        SockAddr local;
        try {
            local = org.epollproxy.forward.Sockets.localAddress(k, fd);
        } catch (RuntimeException e) {
            return "has no address the proxy can read: " + e.getMessage();
        }
        int family = local.family();
        if (family != f.bind().family()) return "is an " + familyName(family) + " socket, not " + familyName(f.bind().family());
        boolean tcp = f.proto() == Forward.Proto.TCP;
        if (tcp && type == Net.SOCK_DGRAM) return "is a datagram socket, not a listening stream socket";
        if (tcp && type != Net.SOCK_STREAM) return "is not a stream socket (type " + type + ")";
        if (tcp && k.getsockopt_int(fd, Net.SOL_SOCKET, Net.SO_ACCEPTCONN) != 1) return "is a stream socket that does not listen";
        if (!tcp && type != Net.SOCK_DGRAM) return "is " + (type == Net.SOCK_STREAM ? "a stream socket" : "of type " + type) + ", not a datagram socket";
        // An IP forward's socket is bound to its very address (port 0: the old one chose; a UNIX socket's own name
        // is the private directory it was made in, not its path).
        if (!f.bind().isUnix() && f.bind().port() != 0 && !local.equals(f.bind())) return "is bound to " + local + ", not " + f.bind();
        return null;
    }

    private static String familyName(int family) {
        return family == Net.AF_UNIX ? "AF_UNIX" : family == Net.AF_INET ? "AF_INET" : family == Net.AF_INET6 ? "AF_INET6" : "address family " + family;
    }

    private static int[] filled(int n) {
        int[] a = new int[n];
        java.util.Arrays.fill(a, -1);
        return a;
    }

    private static Takeover complete(Kernel k, ControlChannel ch, Map<String, int[]> got, List<Forward> forwards, String where,
            String path, int peerPid) throws TakeoverException {
        List<String> unixPaths = new java.util.ArrayList<>();
        for (Forward f : forwards) {
            int[] fds = got.get(f.key());
            // A UNIX listener is one socket, served by loop 0 (as ListeningSockets binds it): the rest stay -1.
            int needed = f.bind().isUnix() ? 1 : fds.length;
            for (int i = 0; i < needed; i++) if (fds[i] < 0) throw new TakeoverException(where + "no socket came for " + f.key());
            if (f.bind().isUnix()) unixPaths.add(f.bind().path());
        }
        return new Takeover(k, ch, got, unixPaths, path, peerPid);
    }

    private static void waitFor(Kernel k, Epoll ep, int fd, int events, long deadline, String where) throws TakeoverException {
        ep.modify(fd, events, 1);
        long ms = (deadline - System.nanoTime()) / 1_000_000;
        if (ms <= 0 || ep.wait((int) ms) == 0) throw new TakeoverException(where + "no answer in time");
    }

    /**
     * We serve the sockets now: tell the old process to drain. False if it did not hear it (it hung up after
     * sending the sockets: a drain or a death): we serve on all the same, an exit here would leave nobody listening.
     */
    public boolean confirm() {
        used = true;
        // The old process never removes a file it handed over; we remove it at exit if it is still that file.
        for (String p : unixPaths) UnixSockets.adopt(k, p);
        ch.send("ok", -1);
        boolean heard;
        try {
            heard = ch.flush();
        } catch (org.epollproxy.shim.SyscallException e) { // EPIPE, ECONNRESET: it is gone
            heard = false;
        }
        ch.close();
        return heard;
    }

    /**
     * Not confirmed (starting failed): hanging up tells the old process to serve on. The sockets are
     * ProxyServer's once given to start (it closes them if it fails); the process exits anyway.
     */
    @Override
    public void close() {
        if (used) return;
        used = true;
        ch.close();
    }

    private static final class SyscallCheck {
        static void ok(int rc, String what) throws TakeoverException {
            if (rc < 0) throw new TakeoverException(what + ": " + Errno.describe(rc));
        }
    }
}
