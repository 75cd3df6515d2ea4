package org.epollproxy.forward;

import java.lang.ref.Reference;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.FileCalls;
import org.epollproxy.shim.FileStat;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.NativeBuffer;
import org.epollproxy.shim.Net;
import org.epollproxy.shim.SockAddr;
import org.epollproxy.shim.SyscallException;

/**
 * A UNIX socket file this process put at a path, made so that no other user can turn it against the
 * system, and removed only while it is still that very file. One piece of code for every socket file
 * the proxy creates ({@code -L /path:...} listeners and {@code --control}).
 *
 * <p>Creating: {@code chmod} on the path after {@code bind} follows a symlink that anyone who can write to
 * the directory may have swapped in. So the socket is bound inside a fresh directory of mode 0700 next to
 * the path (the same filesystem, so {@code rename} works), reached only through its descriptor
 * ({@code /proc/self/fd/N/s}, so renaming the directory away changes nothing), given its mode there, and
 * then renamed onto the path: {@code rename(2)} replaces a symlink at the path and never follows it. What
 * may be at the path already: nothing, or a socket nobody listens on (left by a process that died); a live
 * socket is refused unless the caller takes it over, and any other kind of file is refused.
 *
 * <p>Removing: only if {@code lstat} still shows the device and inode this process bound, and never after
 * {@link #handOver} (a successor serves on it). The check runs while our socket is still open, so its
 * inode number cannot have been reused.
 */
public final class SocketFile {
    /** The private directory's name before its random part; a leading dot keeps it out of plain listings. */
    static final String PRIVATE_PREFIX = ".epoll-proxy-";
    private static final int PRIVATE_MODE = 0700;
    private static final int NAME_TRIES = 16;

    private final Kernel k;
    private final String path;
    private final FileStat identity;
    private final AtomicBoolean done = new AtomicBoolean();

    private SocketFile(Kernel k, String path, FileStat identity) {
        this.k = k;
        this.path = path;
        this.identity = identity;
    }

    public String path() {
        return path;
    }

    /** The device and inode of the file this process made (or adopted). */
    public FileStat identity() {
        return identity;
    }

    /**
     * Binds the UNIX stream socket {@code fd} to {@code path} with permission bits {@code mode} (-1: as the
     * umask makes them) and listens; the socket appears at the path already listening, with its mode.
     * {@code replaceLive}: a socket a process listens on at the path is replaced (we took it over); else
     * refused, saying {@code liveRefusal}. Failures are {@link SyscallException}s that start with {@code what}.
     */
    public static SocketFile bindAndListen(Kernel k, int fd, String path, int mode, int backlog, boolean replaceLive,
            String what, String liveRefusal) {
        FileStat replacing = checkTarget(k, path, replaceLive, what, liveRefusal);
        String dir = makePrivateDir(k, path, what);
        int dfd = -1;
        String inside = null;
        boolean moved = false;
        try {
            dfd = FileCalls.openDirectory(k, dir);
            SyscallException.check(dfd, what + ": open " + dir);
            FileStat d = FileStat.fstat(k, dfd);
            if (!d.isDirectory() || d.uid() != k.getuid() || (d.mode() & 077) != 0) {
                throw new SyscallException(what + ": " + dir + " is not the private directory just made (" + d.kind() + " of uid "
                        + d.uid() + ", mode 0" + Integer.toOctalString(d.mode() & 07777) + ")", -Errno.EEXIST);
            }
            inside = "/proc/self/fd/" + dfd + "/s";
            NativeBuffer a = NativeBuffer.allocate(SockAddr.SIZE);
            SockAddr.unix(inside).write(a.buffer(), 0);
            SyscallException.check(k.bind(fd, a.address()), what + ": bind in " + dir);
            Reference.reachabilityFence(a);
            if (mode >= 0) SyscallException.check(FileCalls.chmod(k, inside, mode), what + ": chmod 0" + Integer.toOctalString(mode));
            SyscallException.check(k.listen(fd, backlog), what + ": listen");
            FileStat made = FileStat.lstat(k, inside);
            if (made == null || !made.isSocket()) throw new SyscallException(what + ": the socket vanished from " + dir, -Errno.ENOENT);
            moveInto(k, inside, path, replacing, what);
            moved = true;
            return new SocketFile(k, path, made);
        } finally {
            if (!moved && inside != null) FileCalls.unlink(k, inside);
            FileCalls.rmdir(k, dir); // empty now; if someone renamed it away, whatever is there stays unless empty
            if (dfd >= 0) k.close(dfd);
        }
    }

    /** A socket file another process made and handed over with its socket (a takeover): null if none is there. */
    public static SocketFile adopt(Kernel k, String path) {
        FileStat now;
        try {
            now = FileStat.lstat(k, path);
        } catch (SyscallException e) {
            return null;
        }
        return now != null && now.isSocket() ? new SocketFile(k, path, now) : null;
    }

    /** A successor serves on this socket now: its file is never removed by this process. */
    public void handOver() {
        done.set(true);
    }

    /**
     * Removes the file if it is still the one this process made and was not handed over; once at most.
     * Call it before closing the socket. Returns whether it removed it.
     */
    public boolean remove() {
        if (!done.compareAndSet(false, true)) return false;
        try {
            FileStat now = FileStat.lstat(k, path);
            if (now == null || !now.sameFile(identity)) return false; // gone, or someone else's file now: not ours to remove
            return FileCalls.unlink(k, path) == 0;
        } catch (SyscallException | IllegalArgumentException e) {
            return false; // cannot look: leave it (the next start replaces a stale socket)
        }
    }

    /** The socket at the path that is to be replaced, null if nothing is there; throws for anything else. */
    private static FileStat checkTarget(Kernel k, String path, boolean replaceLive, String what, String liveRefusal) {
        FileStat there = FileStat.lstat(k, path);
        if (there == null) return null;
        if (!there.isSocket()) {
            throw new SyscallException(what + ": the path exists and is not a socket (" + there.kind() + "); not replacing it", -Errno.EADDRINUSE);
        }
        if (replaceLive) return there;
        int probe = k.socket(Net.AF_UNIX, Net.SOCK_STREAM | Net.SOCK_NONBLOCK | Net.SOCK_CLOEXEC, 0);
        if (probe < 0) throw new SyscallException(what + ": socket", probe);
        NativeBuffer a = NativeBuffer.allocate(SockAddr.SIZE);
        SockAddr.unix(path).write(a.buffer(), 0);
        int rc = k.connect(probe, a.address());
        Reference.reachabilityFence(a);
        k.close(probe);
        if (rc == -Errno.ECONNREFUSED) return there; // a socket file nobody listens on: left by a process that died
        if (rc == -Errno.ENOENT) return null; // it went meanwhile
        if (rc == 0 || rc == -Errno.EAGAIN || rc == -Errno.EINPROGRESS) {
            throw new SyscallException(what + ": " + liveRefusal, -Errno.EADDRINUSE);
        }
        throw new SyscallException(what + ": connect (checking whether the socket is stale)", rc);
    }

    /** mkdir(0700) of a fresh name in the path's directory. */
    private static String makePrivateDir(Kernel k, String path, String what) {
        int slash = path.lastIndexOf('/');
        String parent = slash < 0 ? "." : slash == 0 ? "" : path.substring(0, slash);
        int rc = 0;
        for (int i = 0; i < NAME_TRIES; i++) {
            String dir = parent + "/" + PRIVATE_PREFIX + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16);
            rc = FileCalls.mkdir(k, dir, PRIVATE_MODE);
            if (rc == 0) return dir;
            if (rc != -Errno.EEXIST) break;
        }
        throw new SyscallException(what + ": mkdir of a private directory in " + (parent.isEmpty() ? "/" : parent), rc);
    }

    /**
     * rename(2) onto the path: never over something that appeared when nothing was there, and only over the
     * very file {@code replacing} that was checked. Replacing is an exchange: what was at the path comes into
     * the private directory, where it is checked; if it is not that file (two processes replaced the same
     * stale socket at once, and the other one is serving there now), it goes back and we refuse.
     */
    private static void moveInto(Kernel k, String from, String to, FileStat replacing, String what) {
        int rc = replacing != null ? FileCalls.rename(k, from, to, FileStat.RENAME_EXCHANGE) : FileCalls.rename(k, from, to, FileStat.RENAME_NOREPLACE);
        if (replacing != null && rc == 0) {
            FileStat came = FileStat.lstat(k, from);
            if (came != null && came.sameFile(replacing)) {
                FileCalls.unlink(k, from); // the stale (or handed over) socket, now in our private directory
                return;
            }
            int back = FileCalls.rename(k, from, to, FileStat.RENAME_EXCHANGE);
            throw new SyscallException(what + ": another process put " + (came == null ? "a file" : came.kind())
                    + " at the path while the socket was being made; not replacing it"
                    + (back == 0 ? "" : " (putting it back failed: " + Errno.describe(back) + ")"), -Errno.EADDRINUSE);
        }
        if (replacing != null && rc == -Errno.ENOENT) rc = FileCalls.rename(k, from, to, FileStat.RENAME_NOREPLACE); // it went meanwhile
        if (rc == -Errno.EINVAL) rc = FileCalls.rename(k, from, to, 0); // a filesystem without RENAME_EXCHANGE or RENAME_NOREPLACE
        if (rc == -Errno.EEXIST) {
            throw new SyscallException(what + ": a file appeared at the path while the socket was being made; not replacing it", -Errno.EADDRINUSE);
        }
        SyscallException.check(rc, what + ": rename onto the path");
    }
}
