package org.epollproxy.shim;

/**
 * Every syscall the event loop and the forwarder make, one method per shim function.
 *
 * <p>This is the only door to the kernel: production binds it to the C shim through jnr-ffi
 * ({@link Shim#load()}), tests may put a simulated kernel behind it, and {@code --trace} wraps it
 * ({@link TracingKernel}). Each method returns a non-negative result or {@code -errno}
 * (see {@link Errno}); memory is passed as a native address ({@code long}) plus a length, never as a
 * {@code ByteBuffer}, so jnr-ffi stays on its fast path (only {@code int} and {@code long} cross) and nothing
 * hides in a buffer's position.
 *
 * <p>Method names are the C names without the {@code shim_} prefix; jnr-ffi binds each declared method to
 * {@code shim_<name>}, so a new syscall is a C function, a line here and its line in {@link TracingKernel}.
 * Keep this interface free of default and static methods: jnr-ffi binds every method it declares.
 */
public interface Kernel {

    // ---- epoll ----

    /** {@code epoll_create1(EPOLL_CLOEXEC)}: an epoll fd or -errno. */
    int epoll_create();

    /** {@code epoll_ctl(epfd, op, fd, {events, data.u64 = token})}: 0 or -errno. */
    int epoll_ctl(int epfd, int op, int fd, int events, long token);

    /**
     * {@code epoll_wait}; writes each ready event to {@code out} as {@code {int64 token, int32 events,
     * int32 0}} ({@link Epoll#EVENT_SIZE} bytes). Returns the event count, 0 on timeout or EINTR, or -errno.
     */
    int epoll_wait(int epfd, long out, int max, int timeoutMs);

    /** {@code sizeof(struct epoll_event)} on this ABI (12 on x86-64, 16 elsewhere); for study only. */
    int sizeof_epoll_event();

    // ---- file descriptors ----

    int set_nonblocking(int fd);

    /** {@code fcntl(fd, F_GETFL)}. */
    int get_fd_flags(int fd);

    /** {@code close}; never retried on EINTR (the fd is gone either way on Linux). */
    int close(int fd);

    /**
     * {@code fcntl(fd, F_DUPFD_CLOEXEC, 0)}: a new fd (the lowest free number) for the same open file
     * description, or -errno. The proxy never dups a socket; the epoll lessons do (epoll(7) keys on both).
     */
    int dup(int fd);

    /**
     * {@code dup3(fd, to, O_CLOEXEC)}: the open file description of {@code fd} also under the number {@code to}
     * (closed first if open, in one step, so no other thread takes the number in between); {@code to}, or
     * -errno. Tests use it to reuse an fd number on purpose.
     */
    int dup3(int fd, int to);

    /**
     * {@code open(path, flags | O_CLOEXEC)} of the NUL-terminated path at address {@code path}: an fd or
     * -errno. Never creates a file (O_CREAT is -EINVAL).
     */
    int open(long path, int flags);

    /** {@code eventfd(0, EFD_NONBLOCK|EFD_CLOEXEC)}. */
    int eventfd();

    /** Adds 1 to an eventfd's counter (an 8-byte write). */
    int eventfd_write(int fd);

    /** Reads and resets an eventfd's counter; -EAGAIN when it is 0. */
    int eventfd_read(int fd);

    /** {@code pipe2(O_NONBLOCK|O_CLOEXEC)}: {@code (readFd << 32) | writeFd}, or -errno. */
    long pipe2();

    /** {@code splice(in, NULL, out, NULL, len, flags)}: bytes moved, 0 at EOF, or -errno. */
    int splice(int fdIn, int fdOut, int len, int flags);

    /** {@code fcntl(fd, F_SETPIPE_SZ, size)}: the pipe's new capacity in bytes (rounded up by the kernel), or -errno. */
    int set_pipe_size(int fd, int size);

    /** {@code fcntl(fd, F_GETPIPE_SZ)}: the pipe's capacity in bytes, or -errno. */
    int pipe_size(int fd);

    int read(int fd, long buf, int len);

    int write(int fd, long buf, int len);

    // ---- memory ----

    /** {@code malloc_trim(pad)}: free C-heap memory back to the kernel; 1 if some was released, else 0. */
    int malloc_trim(int pad);

    /**
     * {@code mmap(NULL, len, prot, flags, fd, off)}: the mapping's address or -errno (user-space addresses are
     * positive, so never mistaken for one). {@link IoUring} maps its rings with it. No address hint: jnr-ffi
     * passes a sixth argument wrong, so no shim function has more than five.
     */
    long mmap(long len, int prot, int flags, int fd, long off);

    /** {@code munmap(addr, len)}: 0 or -errno. */
    int munmap(long addr, long len);

    // ---- io_uring (the raw syscalls; {@link IoUring} owns a ring and is what the loop uses) ----

    /**
     * {@code io_uring_setup(entries, params)}: the ring's fd (close-on-exec: the kernel makes every io_uring fd
     * so) or -errno: -ENOSYS (before 5.1, or compiled out), -EPERM (sysctl {@code kernel.io_uring_disabled},
     * a container's seccomp), -EINVAL (a flag this kernel lacks), -ENOMEM (the memlock limit before 5.12).
     * {@code params} is the address of a {@code struct io_uring_params} the caller zeroed and filled
     * ({@code flags}, {@code cq_entries}); the kernel writes the ring sizes, features and offsets back into it.
     */
    int io_uring_setup(int entries, long params);

    /**
     * {@code io_uring_enter(fd, toSubmit, minComplete, flags, arg, argsz)}: the number of entries submitted,
     * or -errno; -EINTR is returned, never retried. {@code arg}: 0, or with {@code IORING_ENTER_EXT_ARG} the
     * address of a {@code struct io_uring_getevents_arg} (its timeout gives -ETIME when it expires before anything
     * was submitted or completed); the shim passes its size itself (five arguments at most, see {@link #mmap}),
     * and refuses a non-zero arg without EXT_ARG (-EINVAL: no signal masks).
     */
    int io_uring_enter(int fd, int toSubmit, int minComplete, int flags, long arg);

    /**
     * {@code io_uring_register(fd, opcode, arg, nrArgs)}: the syscall's result (>= 0) or -errno. {@link IoUring}
     * uses {@code IORING_REGISTER_ENABLE_RINGS} to hand a ring made on one thread to the thread that submits.
     */
    int io_uring_register(int fd, int opcode, long arg, int nrArgs);

    // ---- sockets ----

    /** Size of the shim's address layout, see {@link SockAddr}. */
    int sizeof_addr();

    int socket(int domain, int type, int protocol);

    int setsockopt_int(int fd, int level, int name, int value);

    /** The int value of a socket option, or -errno. */
    int getsockopt_int(int fd, int level, int name);

    /** {@code SO_LINGER}; {@code (1, 0)} makes close() send an RST. */
    int set_linger(int fd, int onoff, int seconds);

    /** {@code getsockopt(SO_ERROR)} as {@code -error} (0 = no pending error); reading clears it. */
    int sock_error(int fd);

    /** Binds to the address at {@code addr} (the shim's layout, see {@link SockAddr}). */
    int bind(int fd, long addr);

    int listen(int fd, int backlog);

    /**
     * {@code accept4(SOCK_NONBLOCK|SOCK_CLOEXEC)}: the new fd, or -errno (-EAGAIN: none pending).
     * Writes the peer's address to {@code outAddr} unless it is 0.
     */
    int accept(int fd, long outAddr);

    /** Non-blocking connect: 0 = connected, -EINPROGRESS = wait for EPOLLOUT, else -errno. */
    int connect(int fd, long addr);

    int getsockname(int fd, long outAddr);

    int getpeername(int fd, long outAddr);

    /** bytes read, 0 = the peer's FIN, -EAGAIN = nothing now, other -errno = failed. */
    int recv(int fd, long buf, int len);

    /** {@code send(MSG_NOSIGNAL)}: bytes sent (maybe fewer than len), -EAGAIN = buffer full. */
    int send(int fd, long buf, int len);

    /** {@code recvfrom(MSG_TRUNC)}: the datagram's real length (may exceed len), or -errno. */
    int recvfrom(int fd, long buf, int len, long outAddr);

    int sendto(int fd, long buf, int len, long addr);

    int shutdown(int fd, int how);

    // ---- the takeover control socket and passing fds ----

    int getuid();

    /** The calling thread's kernel id ({@code gettid}), the name of its {@code /proc/self/task} entry. */
    int gettid();

    /** The uid of the process at the other end of a UNIX socket ({@code SO_PEERCRED}), or -errno. */
    int peer_uid(int fd);

    /** The pid of the process at the other end of a UNIX socket ({@code SO_PEERCRED}), or -errno. */
    int peer_pid(int fd);

    /** {@code fcntl(F_SETFD, FD_CLOEXEC)}. */
    int set_cloexec(int fd);

    /**
     * {@code sendmsg(MSG_NOSIGNAL)} of {@code len} bytes carrying the fd {@code passFd} as {@code SCM_RIGHTS}
     * (none if negative): bytes sent or -errno.
     */
    int send_fd(int sock, long buf, int len, int passFd);

    /**
     * {@code recvmsg(MSG_CMSG_CLOEXEC)} with room for one fd: bytes read (0 = EOF) or -errno; the fd received
     * (or -1) is written as an int32 at {@code outFd}.
     */
    int recv_fd(int sock, long buf, int len, long outFd);

    // ---- socket files (paths are NUL-terminated strings at an address, see FileStat.cString) ----

    /** {@code lstat}: the file at {@code path} itself, never a symlink's target, as {@link FileStat#SIZE} bytes at {@code out}. */
    int lstat(long path, long out);

    /** {@code fstat}: as {@link #lstat}, for an open fd. */
    int fstat(int fd, long out);

    /** {@code mkdir}: -EEXIST if anything, a symlink too, is at {@code path}. */
    int mkdir(long path, int mode);

    int rmdir(long path);

    /** {@code unlink}: removes the name (a symlink itself, never its target). */
    int unlink(long path);

    /**
     * {@code renameat2}: replaces, never follows, what is at {@code to}; {@code flags} {@link FileStat#RENAME_NOREPLACE}
     * makes it -EEXIST instead (-EINVAL on a filesystem that cannot).
     */
    int rename(long from, long to, int flags);

    /** {@code chmod}: follows a symlink, so only for a path in a directory no other user can write. */
    int chmod(long path, int mode);

    /** {@code open(O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC)}: a directory fd, or -errno (a symlink: -ELOOP or -ENOTDIR). */
    int open_directory(long path);

    // ---- errors and constants ----

    /** Copies {@code strerror(err)} into {@code buf}; returns its length. */
    int strerror(int err, long buf, int len);

    /** The platform value of a named constant ("EAGAIN", "EPOLLIN", ...), or Long.MIN_VALUE. */
    long constant(String name);
}
