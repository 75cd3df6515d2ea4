package org.epollproxy.forward;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.Net;
import org.epollproxy.shim.SockAddr;
import org.epollproxy.shim.SyscallException;

/**
 * Listening UNIX stream sockets: the socket file is made by {@link SocketFile} (bound out of reach, given its
 * mode ({@code --unix-mode}) there, listening before it appears at the path), and removed when the listener
 * closes if it is still that file and no takeover handed it on. A file left at the path by a process that
 * died is replaced only when it is a socket and nothing listens on it (a connect is refused); a live socket
 * or any other kind of file is an error.
 *
 * <p>The files this process owns, by path: one process listens on a path at most once, and a listener that
 * stops, a failed start and a takeover all find the file here.
 */
public final class UnixSockets {
    private static final Map<String, SocketFile> OWNED = new ConcurrentHashMap<>();

    /** A non-blocking UNIX stream socket listening at {@code addr}'s path; {@code mode} -1 = the umask's. */
    public static int listen(Kernel k, SockAddr addr, int backlog, int mode) {
        int fd = k.socket(Net.AF_UNIX, Net.SOCK_STREAM | Net.SOCK_NONBLOCK | Net.SOCK_CLOEXEC, 0);
        if (fd < 0) throw new SyscallException("socket for " + addr, fd);
        try {
            OWNED.put(addr.path(), SocketFile.bindAndListen(k, fd, addr.path(), mode, backlog, false, "bind " + addr,
                    "another process is listening on it"));
            return fd;
        } catch (RuntimeException e) {
            k.close(fd);
            throw e;
        }
    }

    /**
     * Deletes the socket file of a listener that stops, if this process made it (or adopted it) and it is
     * still that file; quietly, and before its socket closes.
     */
    public static void remove(SockAddr addr) {
        SocketFile f = OWNED.remove(addr.path());
        if (f != null) f.remove();
    }

    /** A takeover gave the socket at {@code path} to another process: its file is never removed from here. */
    public static void handOver(String path) {
        SocketFile f = OWNED.remove(path);
        if (f != null) f.handOver();
    }

    /** The socket at {@code path} came from a takeover: its file is ours to remove at exit, while it is still that file. */
    public static void adopt(Kernel k, String path) {
        SocketFile f = SocketFile.adopt(k, path);
        if (f != null) OWNED.put(path, f);
    }

    private UnixSockets() {}
}
