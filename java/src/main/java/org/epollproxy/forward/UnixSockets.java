package org.epollproxy.forward;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.NativeBuffer;
import org.epollproxy.shim.Net;
import org.epollproxy.shim.SockAddr;
import org.epollproxy.shim.SyscallException;

/**
 * Listening UNIX stream sockets: the socket file is created by bind, given its mode ({@code --unix-mode})
 * before listen (so no client can connect while the mode is still the umask's), and removed when the
 * listener closes. A file left at the path by a process that died is replaced only when it is a socket
 * and nothing listens on it (a connect is refused); a live socket or any other kind of file is an error.
 */
public final class UnixSockets {

    /** A non-blocking UNIX stream socket listening at {@code addr}'s path; {@code mode} -1 = the umask's. */
    public static int listen(Kernel k, SockAddr addr, int backlog, int mode) {
        removeIfStale(k, addr);
        int fd = k.socket(Net.AF_UNIX, Net.SOCK_STREAM | Net.SOCK_NONBLOCK | Net.SOCK_CLOEXEC, 0);
        if (fd < 0) throw new SyscallException("socket for " + addr, fd);
        NativeBuffer buf = NativeBuffer.allocate(SockAddr.SIZE);
        addr.write(buf.buffer(), 0);
        int rc = k.bind(fd, buf.address());
        if (rc < 0) {
            k.close(fd);
            throw new SyscallException("bind " + addr, rc);
        }
        try {
            if (mode >= 0) Files.setPosixFilePermissions(Path.of(addr.path()), permissions(mode));
            SyscallException.check(k.listen(fd, backlog), "listen " + addr);
            return fd;
        } catch (IOException | RuntimeException e) {
            k.close(fd);
            remove(addr);
            if (e instanceof RuntimeException re) throw re;
            throw new SyscallException("chmod " + addr + " (" + e.getMessage() + ")", -Errno.EACCES);
        }
    }

    /** Deletes the socket file of a listener that stopped (quietly: it may be gone already). */
    public static void remove(SockAddr addr) {
        try {
            Files.deleteIfExists(Path.of(addr.path()));
        } catch (IOException | RuntimeException e) {
            // nothing to do: a file we cannot remove stays, and the next start replaces it if it is stale
        }
    }

    private static void removeIfStale(Kernel k, SockAddr addr) {
        Path p = Path.of(addr.path());
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            return; // nothing there (or not visible): bind says what is wrong, if anything
        }
        if (!a.isOther()) {
            throw new SyscallException("bind " + addr + ": the path exists and is not a socket; not replacing it", -Errno.EADDRINUSE);
        }
        int fd = k.socket(Net.AF_UNIX, Net.SOCK_STREAM | Net.SOCK_NONBLOCK | Net.SOCK_CLOEXEC, 0);
        if (fd < 0) throw new SyscallException("socket for " + addr, fd);
        NativeBuffer buf = NativeBuffer.allocate(SockAddr.SIZE);
        addr.write(buf.buffer(), 0);
        int rc = k.connect(fd, buf.address());
        k.close(fd);
        if (rc == -Errno.ECONNREFUSED) { // a socket file nobody listens on: left by a process that died
            remove(addr);
            return;
        }
        if (rc == 0 || rc == -Errno.EAGAIN || rc == -Errno.EINPROGRESS) {
            throw new SyscallException("bind " + addr + ": another process is listening on it", -Errno.EADDRINUSE);
        }
        throw new SyscallException("connect " + addr + " (checking whether the socket is stale)", rc);
    }

    /** An octal mode such as 0660 as permission bits (setuid/setgid/sticky are not for sockets). */
    static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> out = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {
            PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
            PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ,
        };
        for (int bit = 0; bit < 9; bit++) if ((mode & (1 << bit)) != 0) out.add(order[bit]);
        return out;
    }

    private UnixSockets() {}
}
