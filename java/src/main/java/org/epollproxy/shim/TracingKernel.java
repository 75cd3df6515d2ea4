package org.epollproxy.shim;

import com.kenai.jffi.MemoryIO;
import java.io.PrintStream;
import java.util.HashMap;
import java.util.Map;

/**
 * {@code --trace}: a {@link Kernel} that forwards every call and prints one line per syscall outcome
 * and per epoll event, so a reader can watch the loop work:
 *
 * <pre>
 * epoll_wait -> 1
 * fd 7 IN
 * recv fd 7 -> 65536
 * send fd 9 65536 -> 19200
 * MOD fd 9 IN -> IN|OUT
 * send fd 9 46336 -> EAGAIN
 * </pre>
 *
 * It remembers each fd's registered mask and each token's fd, so a MOD shows the old and new mask
 * and an event shows its fd, with no tracing code in the event loop itself. Only one loop thread
 * should use an instance (the maps are not synchronized).
 */
public final class TracingKernel implements Kernel {
    private final Kernel k;
    private final PrintStream out;
    private final Map<Integer, Integer> masks = new HashMap<>();
    private final Map<Long, Integer> tokenFds = new HashMap<>();
    private final String prefix;

    public TracingKernel(Kernel delegate, PrintStream out, String prefix) {
        this.k = delegate;
        this.out = out;
        this.prefix = prefix;
    }

    private int log(int rc, String what) {
        out.println(prefix + what + " -> " + result(rc));
        return rc;
    }

    private static String result(long rc) {
        return rc < 0 ? Errno.name((int) rc) : Long.toString(rc);
    }

    @Override
    public int epoll_create() {
        return log(k.epoll_create(), "epoll_create1");
    }

    @Override
    public int epoll_ctl(int epfd, int op, int fd, int events, long token) {
        int rc = k.epoll_ctl(epfd, op, fd, events, token);
        String err = rc < 0 ? " -> " + Errno.name(rc) : "";
        if (op == Epoll.EPOLL_CTL_ADD) {
            out.println(prefix + "ADD fd " + fd + " " + Epoll.describe(events) + err);
        } else if (op == Epoll.EPOLL_CTL_MOD) {
            Integer old = masks.get(fd);
            out.println(prefix + "MOD fd " + fd + " " + (old == null ? "?" : Epoll.describe(old)) + " -> "
                    + Epoll.describe(events) + err);
        } else {
            out.println(prefix + "DEL fd " + fd + err);
        }
        if (rc == 0) {
            if (op == Epoll.EPOLL_CTL_DEL) {
                masks.remove(fd);
            } else {
                masks.put(fd, events);
                tokenFds.put(token, fd);
            }
        }
        return rc;
    }

    @Override
    public int epoll_wait(int epfd, long out, int max, int timeoutMs) {
        int n = k.epoll_wait(epfd, out, max, timeoutMs);
        this.out.println(prefix + "epoll_wait timeout=" + timeoutMs + " -> " + result(n));
        MemoryIO mem = MemoryIO.getInstance();
        for (int i = 0; i < n; i++) {
            long token = mem.getLong(out + (long) i * Epoll.EVENT_SIZE);
            int events = mem.getInt(out + (long) i * Epoll.EVENT_SIZE + 8);
            Integer fd = tokenFds.get(token);
            this.out.println(prefix + "fd " + (fd == null ? "? token " + token : fd) + " " + Epoll.describe(events));
        }
        return n;
    }

    @Override
    public int sizeof_epoll_event() {
        return k.sizeof_epoll_event();
    }

    @Override
    public int set_nonblocking(int fd) {
        return log(k.set_nonblocking(fd), "fcntl O_NONBLOCK fd " + fd);
    }

    @Override
    public int get_fd_flags(int fd) {
        return k.get_fd_flags(fd);
    }

    @Override
    public int close(int fd) {
        masks.remove(fd);
        return log(k.close(fd), "close fd " + fd);
    }

    @Override
    public int dup(int fd) {
        return log(k.dup(fd), "dup fd " + fd);
    }

    @Override
    public int dup3(int fd, int to) {
        return log(k.dup3(fd, to), "dup3 fd " + fd + " to " + to);
    }

    @Override
    public int open(long path, int flags) {
        return log(k.open(path, flags), "open " + FileStat.readCString(path) + " flags 0x" + Integer.toHexString(flags));
    }

    @Override
    public int eventfd() {
        return log(k.eventfd(), "eventfd");
    }

    @Override
    public int eventfd_write(int fd) {
        return log(k.eventfd_write(fd), "eventfd write fd " + fd);
    }

    @Override
    public int eventfd_read(int fd) {
        return log(k.eventfd_read(fd), "eventfd read fd " + fd);
    }

    @Override
    public long pipe2() {
        long rc = k.pipe2();
        out.println(prefix + "pipe2 -> " + (rc < 0 ? Errno.name((int) rc) : (rc >>> 32) + "," + (rc & 0xffffffffL)));
        return rc;
    }

    @Override
    public int set_pipe_size(int fd, int size) {
        return log(k.set_pipe_size(fd, size), "fcntl F_SETPIPE_SZ fd " + fd + " " + size);
    }

    @Override
    public int pipe_size(int fd) {
        return log(k.pipe_size(fd), "fcntl F_GETPIPE_SZ fd " + fd);
    }

    @Override
    public int splice(int fdIn, int fdOut, int len, int flags) {
        return log(k.splice(fdIn, fdOut, len, flags), "splice fd " + fdIn + " -> fd " + fdOut + " " + len);
    }

    @Override
    public int read(int fd, long buf, int len) {
        return log(k.read(fd, buf, len), "read fd " + fd);
    }

    @Override
    public int write(int fd, long buf, int len) {
        return log(k.write(fd, buf, len), "write fd " + fd + " " + len);
    }

    @Override
    public int malloc_trim(int pad) {
        return log(k.malloc_trim(pad), "malloc_trim " + pad);
    }

    @Override
    public long mmap(long len, int prot, int flags, int fd, long off) {
        long rc = k.mmap(len, prot, flags, fd, off);
        out.println(prefix + "mmap fd " + fd + " " + len + " off 0x" + Long.toHexString(off) + " -> "
                + (rc < 0 ? Errno.name((int) rc) : "0x" + Long.toHexString(rc)));
        return rc;
    }

    @Override
    public int munmap(long addr, long len) {
        return log(k.munmap(addr, len), "munmap 0x" + Long.toHexString(addr) + " " + len);
    }

    @Override
    public int io_uring_setup(int entries, long params) {
        return log(k.io_uring_setup(entries, params), "io_uring_setup " + entries);
    }

    @Override
    public int io_uring_enter(int fd, int toSubmit, int minComplete, int flags, long arg) {
        // One line per enter, as epoll_wait has one per wait; the completions are the loop's to show.
        return log(k.io_uring_enter(fd, toSubmit, minComplete, flags, arg),
                "io_uring_enter fd " + fd + " submit " + toSubmit + " wait " + minComplete + " flags 0x" + Integer.toHexString(flags));
    }

    @Override
    public int io_uring_register(int fd, int opcode, long arg, int nrArgs) {
        return log(k.io_uring_register(fd, opcode, arg, nrArgs), "io_uring_register fd " + fd + " opcode " + opcode);
    }

    @Override
    public int sizeof_addr() {
        return k.sizeof_addr();
    }

    @Override
    public int socket(int domain, int type, int protocol) {
        return log(k.socket(domain, type, protocol), "socket " + (domain == Net.AF_INET6 ? "AF_INET6" : "AF_INET")
                + ((type & 0xf) == Net.SOCK_DGRAM ? " SOCK_DGRAM" : " SOCK_STREAM"));
    }

    @Override
    public int setsockopt_int(int fd, int level, int name, int value) {
        return log(k.setsockopt_int(fd, level, name, value), "setsockopt fd " + fd + " " + level + "/" + name + "=" + value);
    }

    @Override
    public int getsockopt_int(int fd, int level, int name) {
        return k.getsockopt_int(fd, level, name);
    }

    @Override
    public int set_linger(int fd, int onoff, int seconds) {
        return log(k.set_linger(fd, onoff, seconds), "setsockopt fd " + fd + " SO_LINGER " + onoff + "," + seconds);
    }

    @Override
    public int sock_error(int fd) {
        return log(k.sock_error(fd), "getsockopt fd " + fd + " SO_ERROR");
    }

    @Override
    public int bind(int fd, long addr) {
        return log(k.bind(fd, addr), "bind fd " + fd);
    }

    @Override
    public int listen(int fd, int backlog) {
        return log(k.listen(fd, backlog), "listen fd " + fd);
    }

    @Override
    public int accept(int fd, long outAddr) {
        return log(k.accept(fd, outAddr), "accept fd " + fd);
    }

    @Override
    public int connect(int fd, long addr) {
        return log(k.connect(fd, addr), "connect fd " + fd);
    }

    @Override
    public int getsockname(int fd, long outAddr) {
        return k.getsockname(fd, outAddr);
    }

    @Override
    public int getpeername(int fd, long outAddr) {
        return k.getpeername(fd, outAddr);
    }

    @Override
    public int recv(int fd, long buf, int len) {
        return log(k.recv(fd, buf, len), "recv fd " + fd);
    }

    @Override
    public int send(int fd, long buf, int len) {
        return log(k.send(fd, buf, len), "send fd " + fd + " " + len);
    }

    @Override
    public int recvfrom(int fd, long buf, int len, long outAddr) {
        return log(k.recvfrom(fd, buf, len, outAddr), "recvfrom fd " + fd);
    }

    @Override
    public int sendto(int fd, long buf, int len, long addr) {
        return log(k.sendto(fd, buf, len, addr), "sendto fd " + fd + " " + len);
    }

    @Override
    public int shutdown(int fd, int how) {
        String h = how == Net.SHUT_WR ? "SHUT_WR" : how == Net.SHUT_RD ? "SHUT_RD" : "SHUT_RDWR";
        return log(k.shutdown(fd, how), "shutdown fd " + fd + " " + h);
    }

    @Override
    public int getuid() {
        return k.getuid();
    }

    @Override
    public int gettid() {
        return k.gettid();
    }

    @Override
    public int peer_uid(int fd) {
        return log(k.peer_uid(fd), "getsockopt fd " + fd + " SO_PEERCRED");
    }

    @Override
    public int peer_pid(int fd) {
        return log(k.peer_pid(fd), "getsockopt fd " + fd + " SO_PEERCRED pid");
    }

    @Override
    public int set_cloexec(int fd) {
        return log(k.set_cloexec(fd), "fcntl fd " + fd + " FD_CLOEXEC");
    }

    @Override
    public int send_fd(int sock, long buf, int len, int passFd) {
        return log(k.send_fd(sock, buf, len, passFd), "sendmsg fd " + sock + " " + len + (passFd >= 0 ? " SCM_RIGHTS " + passFd : ""));
    }

    @Override
    public int recv_fd(int sock, long buf, int len, long outFd) {
        return log(k.recv_fd(sock, buf, len, outFd), "recvmsg fd " + sock + " " + len);
    }

    @Override
    public int lstat(long path, long out) {
        return log(k.lstat(path, out), "lstat " + FileStat.readCString(path));
    }

    @Override
    public int fstat(int fd, long out) {
        return log(k.fstat(fd, out), "fstat fd " + fd);
    }

    @Override
    public int mkdir(long path, int mode) {
        return log(k.mkdir(path, mode), "mkdir " + FileStat.readCString(path) + " 0" + Integer.toOctalString(mode));
    }

    @Override
    public int rmdir(long path) {
        return log(k.rmdir(path), "rmdir " + FileStat.readCString(path));
    }

    @Override
    public int unlink(long path) {
        return log(k.unlink(path), "unlink " + FileStat.readCString(path));
    }

    @Override
    public int rename(long from, long to, int flags) {
        return log(k.rename(from, to, flags), "rename " + FileStat.readCString(from) + " " + FileStat.readCString(to)
                + (flags == FileStat.RENAME_NOREPLACE ? " RENAME_NOREPLACE" : ""));
    }

    @Override
    public int chmod(long path, int mode) {
        return log(k.chmod(path, mode), "chmod " + FileStat.readCString(path) + " 0" + Integer.toOctalString(mode));
    }

    @Override
    public int open_directory(long path) {
        return log(k.open_directory(path), "open " + FileStat.readCString(path) + " O_DIRECTORY|O_NOFOLLOW");
    }

    @Override
    public int strerror(int err, long buf, int len) {
        return k.strerror(err, buf, len);
    }

    @Override
    public long constant(String name) {
        return k.constant(name);
    }
}
