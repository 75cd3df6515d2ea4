/*
 * epoll-proxy shim: one thin C function per Linux syscall the Java event loop needs.
 *
 * Rules (see README "The shim"):
 *  - every function returns a non-negative result or -errno, captured on the line after the call,
 *    so nothing depends on errno surviving the FFI boundary (jffi is called without saving errno);
 *  - no policy: no hidden loops except retrying EINTR where the call is safely restartable;
 *  - signatures are primitive (int, long long addresses) so jffi can use its fast path (a direct call on x86-64);
 *  - the kernel's struct layouts (epoll_event, sockaddr_*) never cross into Java: the shim flattens
 *    them into layouts it defines itself (see shim.h).
 */
#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <stddef.h>
#include <unistd.h>

#define ADDR(p) ((void *)(intptr_t)(p))

/* ---- epoll ---------------------------------------------------------------------------------- */

int shim_epoll_create(void) {
    int fd = epoll_create1(EPOLL_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int shim_epoll_ctl(int epfd, int op, int fd, int events, long long token) {
    /* A non-NULL event even for EPOLL_CTL_DEL: kernels before 2.6.9 required it. */
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = (uint32_t)events;
    ev.data.u64 = (uint64_t)token;
    int rc = epoll_ctl(epfd, op, fd, &ev);
    return rc < 0 ? -errno : 0;
}

/*
 * Waits and writes each ready event as {int64 token, int32 events, int32 0} (SHIM_EVENT_SIZE bytes)
 * into out. struct epoll_event is packed to 12 bytes on x86-64 and 16 on other ABIs; Java never has
 * to know. EINTR returns 0 events: the caller recomputes its timeout from its timers anyway.
 */
int shim_epoll_wait(int epfd, long long out, int max, int timeout_ms) {
    struct epoll_event evs[SHIM_MAX_EVENTS];
    if (max > SHIM_MAX_EVENTS) max = SHIM_MAX_EVENTS;
    if (max <= 0) return -EINVAL;
    int n = epoll_wait(epfd, evs, max, timeout_ms);
    if (n < 0) return errno == EINTR ? 0 : -errno;
    unsigned char *p = ADDR(out);
    for (int i = 0; i < n; i++, p += SHIM_EVENT_SIZE) {
        int64_t token = (int64_t)evs[i].data.u64;
        int32_t events = (int32_t)evs[i].events;
        int32_t zero = 0;
        memcpy(p, &token, 8);
        memcpy(p + 8, &events, 4);
        memcpy(p + 12, &zero, 4);
    }
    return n;
}

int shim_sizeof_epoll_event(void) { return (int)sizeof(struct epoll_event); }

/* ---- file descriptors ----------------------------------------------------------------------- */

int shim_set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) return -errno;
    if (flags & O_NONBLOCK) return 0;
    return fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ? -errno : 0;
}

int shim_get_fd_flags(int fd) {
    int flags = fcntl(fd, F_GETFL);
    return flags < 0 ? -errno : flags;
}

/* close is never retried on EINTR: on Linux the fd is gone either way, and a retry could close
 * an fd another thread just got (LWN 576478). */
int shim_close(int fd) { return close(fd) < 0 ? -errno : 0; }

/* fcntl(F_DUPFD_CLOEXEC, 0): a second fd for the same open file description (the lowest free number),
 * close-on-exec like every fd the shim makes. */
int shim_dup(int fd) {
    int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    return d < 0 ? -errno : d;
}

/* dup3(fd, to, O_CLOEXEC): the open file description of fd also under the number to, which is closed first
 * if open, in one step: no other thread can take the number in between, as after a close. */
int shim_dup3(int fd, int to) { return dup3(fd, to, O_CLOEXEC) < 0 ? -errno : to; }

/* open(path, flags | O_CLOEXEC) of a NUL-terminated path at the address path. It never creates a file:
 * there is no mode argument, so O_CREAT and O_TMPFILE are refused with -EINVAL. */
int shim_open(long long path, int flags) {
    if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) return -EINVAL;
    int fd;
    do fd = open(ADDR(path), flags | O_CLOEXEC); while (fd < 0 && errno == EINTR);
    return fd < 0 ? -errno : fd;
}

int shim_eventfd(void) {
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int shim_eventfd_write(int fd) {
    uint64_t one = 1; /* exactly 8 bytes, as eventfd(2) demands */
    ssize_t n;
    do n = write(fd, &one, sizeof one); while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : 0;
}

int shim_eventfd_read(int fd) {
    uint64_t v;
    ssize_t n;
    do n = read(fd, &v, sizeof v); while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    return v > INT32_MAX ? INT32_MAX : (int)v;
}

/* Both pipe ends packed as (read << 32) | write, like Netty's newPipe; negative = -errno. */
long long shim_pipe2(void) {
    int fds[2];
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) return -errno;
    return ((long long)fds[0] << 32) | (unsigned int)fds[1];
}

/* fcntl(F_SETPIPE_SZ): the pipe's new capacity (the kernel rounds up to a power-of-two number of pages)
 * or -errno (EPERM above /proc/sys/fs/pipe-max-size or the user's pipe pages without CAP_SYS_RESOURCE,
 * EBUSY below what the pipe holds). */
int shim_set_pipe_size(int fd, int size) {
    int n = fcntl(fd, F_SETPIPE_SZ, size);
    return n < 0 ? -errno : n;
}

/* fcntl(F_GETPIPE_SZ): the pipe's capacity in bytes, or -errno. */
int shim_pipe_size(int fd) {
    int n = fcntl(fd, F_GETPIPE_SZ);
    return n < 0 ? -errno : n;
}

int shim_splice(int fd_in, int fd_out, int len, int flags) {
    ssize_t n;
    do n = splice(fd_in, NULL, fd_out, NULL, (size_t)len, (unsigned int)flags);
    while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : (int)n;
}

int shim_read(int fd, long long buf, int len) {
    ssize_t n;
    do n = read(fd, ADDR(buf), (size_t)len); while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : (int)n;
}

int shim_write(int fd, long long buf, int len) {
    ssize_t n;
    do n = write(fd, ADDR(buf), (size_t)len); while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : (int)n;
}

/* ---- memory --------------------------------------------------------------------------------- */

/* malloc_trim(pad): gives free C-heap memory back to the kernel (the top of each arena and, since
 * glibc 2.8, whole free pages inside it). 1 if memory was released, 0 if not; it cannot fail. Without
 * glibc (musl) there is nothing to call: 0. */
int shim_malloc_trim(int pad) {
#ifdef __GLIBC__
    return malloc_trim(pad < 0 ? 0 : (size_t)pad);
#else
    (void)pad;
    return 0;
#endif
}

/* mmap(NULL, len, prot, flags, fd, off): the address of the new mapping, or -errno (never MAP_FAILED).
 * User-space addresses are below 2^47 (x86-64) or 2^48 (aarch64), so a mapping is never mistaken for a
 * negative errno. No address hint: the kernel places it (and a sixth argument would not survive the binding,
 * see shim.h). */
long long shim_mmap(long long len, int prot, int flags, int fd, long long off) {
    void *p = mmap(NULL, (size_t)len, prot, flags, fd, (off_t)off);
    return p == MAP_FAILED ? -errno : (long long)(intptr_t)p;
}

int shim_munmap(long long addr, long long len) { return munmap(ADDR(addr), (size_t)len) < 0 ? -errno : 0; }

/* ---- io_uring (raw syscalls: no liburing; the Java side, shim.IoUring, owns the rings) ------------ */

/* io_uring_setup(entries, params): the ring's fd or -errno. params points at a struct io_uring_params
 * the caller zeroed and filled (flags, cq_entries); the kernel writes the ring offsets back into it.
 * The fd is close-on-exec already: the kernel creates every io_uring fd with O_CLOEXEC (io_uring_setup(2)
 * has no flag for it; io_uring_get_file/anon_inode passes O_RDWR | O_CLOEXEC since 5.1). Through
 * syscall(2): glibc and musl have no wrapper. */
int shim_io_uring_setup(int entries, long long params) {
#ifdef __NR_io_uring_setup
    long rc = syscall(__NR_io_uring_setup, (unsigned int)entries, ADDR(params));
    return rc < 0 ? -errno : (int)rc;
#else
    (void)entries, (void)params;
    return -ENOSYS;
#endif
}

/* io_uring_enter(fd, to_submit, min_complete, flags, arg, argsz): what the syscall returns (the number of
 * entries submitted) or -errno. arg is NULL (0), or with IORING_ENTER_EXT_ARG (flag bit 3) a struct
 * io_uring_getevents_arg, the one size the kernel accepts for it: argsz follows from the flags, so the
 * call keeps to five arguments (see shim.h). A signal mask without EXT_ARG is not offered: -EINVAL.
 * EINTR is returned as -EINTR, not retried: the entries submitted before a signal are not submitted
 * again, and the caller decides whether to wait once more. */
int shim_io_uring_enter(int fd, int to_submit, int min_complete, int flags, long long arg) {
#ifdef __NR_io_uring_enter
    size_t argsz = (flags & SHIM_IORING_ENTER_EXT_ARG) ? SHIM_GETEVENTS_ARG_SIZE : 0;
    if (arg != 0 && argsz == 0) return -EINVAL;
    long rc = syscall(__NR_io_uring_enter, fd, (unsigned int)to_submit, (unsigned int)min_complete,
                      (unsigned int)flags, ADDR(arg), argsz);
    return rc < 0 ? -errno : (int)rc;
#else
    (void)fd, (void)to_submit, (void)min_complete, (void)flags, (void)arg;
    return -ENOSYS;
#endif
}

/* io_uring_register(fd, opcode, arg, nr_args): what the syscall returns (>= 0) or -errno. The Java side uses
 * IORING_REGISTER_ENABLE_RINGS: a ring set up with IORING_SETUP_R_DISABLED on one thread is enabled on the
 * thread that will submit, which IORING_SETUP_SINGLE_ISSUER then binds it to. */
int shim_io_uring_register(int fd, int opcode, long long arg, int nr_args) {
#ifdef __NR_io_uring_register
    long rc = syscall(__NR_io_uring_register, fd, (unsigned int)opcode, ADDR(arg), (unsigned int)nr_args);
    return rc < 0 ? -errno : (int)rc;
#else
    (void)fd, (void)opcode, (void)arg, (void)nr_args;
    return -ENOSYS;
#endif
}

/* ---- addresses ------------------------------------------------------------------------------ */

/* The shim's own address layout (SHIM_ADDR_SIZE bytes), independent of the kernel's sockaddr:
 *   int32 family (AF_INET/AF_INET6/AF_UNIX), int32 port (host order), int32 scope id, then
 *   SHIM_ADDR_SIZE - 12 bytes: the IP address (IPv4 in the first 4, network order), or for AF_UNIX a
 *   NUL-terminated path of at most 107 bytes (sun_path's 108 with its NUL; abstract names are not
 *   supported). An unnamed UNIX peer (a client that did not bind) reads back as an empty path. */
static int to_sockaddr(long long shim_addr, struct sockaddr_storage *ss, socklen_t *len) {
    const unsigned char *p = ADDR(shim_addr);
    int32_t family, port, scope;
    memcpy(&family, p, 4);
    memcpy(&port, p + 4, 4);
    memcpy(&scope, p + 8, 4);
    memset(ss, 0, sizeof *ss);
    if (port < 0 || port > 65535) return -EINVAL;
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        memcpy(&sin->sin_addr, p + 12, 4);
        *len = sizeof *sin;
        return 0;
    }
    if (family == AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        sin6->sin6_scope_id = (uint32_t)scope;
        memcpy(&sin6->sin6_addr, p + 12, 16);
        *len = sizeof *sin6;
        return 0;
    }
    if (family == AF_UNIX) {
        struct sockaddr_un *sun = (struct sockaddr_un *)ss;
        const char *path = (const char *)p + 12;
        size_t n = strnlen(path, sizeof sun->sun_path);
        if (n == 0) return -EINVAL;
        if (n == sizeof sun->sun_path) return -ENAMETOOLONG;
        sun->sun_family = AF_UNIX;
        memcpy(sun->sun_path, path, n + 1);
        *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
        return 0;
    }
    return -EAFNOSUPPORT;
}

static void from_sockaddr(const struct sockaddr_storage *ss, socklen_t len, long long shim_addr) {
    unsigned char *p = ADDR(shim_addr);
    int32_t family = ss->ss_family, port = 0, scope = 0;
    memset(p, 0, SHIM_ADDR_SIZE);
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
        port = ntohs(sin->sin_port);
        memcpy(p + 12, &sin->sin_addr, 4);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
        port = ntohs(sin6->sin6_port);
        scope = (int32_t)sin6->sin6_scope_id;
        memcpy(p + 12, &sin6->sin6_addr, 16);
    } else if (ss->ss_family == AF_UNIX) {
        const struct sockaddr_un *sun = (const struct sockaddr_un *)ss;
        size_t off = offsetof(struct sockaddr_un, sun_path);
        size_t n = len > off ? (size_t)len - off : 0; /* 0: unnamed; a leading NUL: abstract, shown empty */
        if (n > sizeof sun->sun_path - 1) n = sizeof sun->sun_path - 1;
        if (n > 0 && sun->sun_path[0] != 0) memcpy(p + 12, sun->sun_path, strnlen(sun->sun_path, n));
    }
    memcpy(p, &family, 4);
    memcpy(p + 4, &port, 4);
    memcpy(p + 8, &scope, 4);
}

int shim_sizeof_addr(void) { return SHIM_ADDR_SIZE; }

/* ---- sockets -------------------------------------------------------------------------------- */

int shim_socket(int domain, int type, int protocol) {
    int fd = socket(domain, type, protocol);
    return fd < 0 ? -errno : fd;
}

int shim_setsockopt_int(int fd, int level, int name, int value) {
    return setsockopt(fd, level, name, &value, sizeof value) < 0 ? -errno : 0;
}

int shim_getsockopt_int(int fd, int level, int name) {
    int value = 0;
    socklen_t len = sizeof value;
    if (getsockopt(fd, level, name, &value, &len) < 0) return -errno;
    return value;
}

int shim_set_linger(int fd, int onoff, int seconds) {
    struct linger l = {.l_onoff = onoff, .l_linger = seconds};
    return setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l) < 0 ? -errno : 0;
}

/* The pending error of a socket as -errno (0 = none); reading SO_ERROR also clears it. */
int shim_sock_error(int fd) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return -errno;
    return -err;
}

int shim_bind(int fd, long long addr) {
    struct sockaddr_storage ss;
    socklen_t len;
    int rc = to_sockaddr(addr, &ss, &len);
    if (rc < 0) return rc;
    return bind(fd, (struct sockaddr *)&ss, len) < 0 ? -errno : 0;
}

int shim_listen(int fd, int backlog) { return listen(fd, backlog) < 0 ? -errno : 0; }

/* accept4 with SOCK_NONBLOCK|SOCK_CLOEXEC; writes the peer address to out_addr unless it is 0. */
int shim_accept(int fd, long long out_addr) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int c;
    do c = accept4(fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    while (c < 0 && errno == EINTR);
    if (c < 0) return -errno;
    if (out_addr) from_sockaddr(&ss, len, out_addr);
    return c;
}

/* Non-blocking connect: 0 = connected, -EINPROGRESS = wait for EPOLLOUT then shim_sock_error.
 * EINTR is reported as -EINPROGRESS: an interrupted connect carries on in the kernel, and
 * calling connect again would only return EALREADY. */
int shim_connect(int fd, long long addr) {
    struct sockaddr_storage ss;
    socklen_t len;
    int rc = to_sockaddr(addr, &ss, &len);
    if (rc < 0) return rc;
    if (connect(fd, (struct sockaddr *)&ss, len) == 0) return 0;
    int err = errno;
    return err == EINTR ? -EINPROGRESS : -err;
}

int shim_getsockname(int fd, long long out_addr) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) return -errno;
    from_sockaddr(&ss, len, out_addr);
    return 0;
}

int shim_getpeername(int fd, long long out_addr) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0) return -errno;
    from_sockaddr(&ss, len, out_addr);
    return 0;
}

/* recv: n > 0 bytes, 0 = the peer's FIN, -EAGAIN = nothing now, other -errno = dead. */
int shim_recv(int fd, long long buf, int len) {
    ssize_t n;
    do n = recv(fd, ADDR(buf), (size_t)len, 0); while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : (int)n;
}

/* send with MSG_NOSIGNAL always: a reset peer gives -EPIPE, never a process-killing SIGPIPE. */
int shim_send(int fd, long long buf, int len) {
    ssize_t n;
    do n = send(fd, ADDR(buf), (size_t)len, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : (int)n;
}

int shim_recvfrom(int fd, long long buf, int len, long long out_addr) {
    struct sockaddr_storage ss;
    socklen_t alen = sizeof ss;
    ssize_t n;
    do n = recvfrom(fd, ADDR(buf), (size_t)len, MSG_TRUNC, (struct sockaddr *)&ss, &alen);
    while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    if (out_addr) from_sockaddr(&ss, alen, out_addr);
    return (int)n; /* MSG_TRUNC: the real datagram length, so a truncation is visible (n > len) */
}

int shim_sendto(int fd, long long buf, int len, long long addr) {
    struct sockaddr_storage ss;
    socklen_t alen;
    int rc = to_sockaddr(addr, &ss, &alen);
    if (rc < 0) return rc;
    ssize_t n;
    do n = sendto(fd, ADDR(buf), (size_t)len, MSG_NOSIGNAL, (struct sockaddr *)&ss, alen);
    while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : (int)n;
}

int shim_shutdown(int fd, int how) { return shutdown(fd, how) < 0 ? -errno : 0; }

/* ---- the takeover: who is at the other end, and passing fds ------------------------------------ */

int shim_getuid(void) { return (int)getuid(); }

/* The calling thread's kernel id (the name of its /proc/self/task entry). */
int shim_gettid(void) { return (int)syscall(SYS_gettid); }

/* The uid of the process at the other end of a UNIX socket (SO_PEERCRED), or -errno. */
int shim_peer_uid(int fd) {
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return -errno;
    return (int)cred.uid;
}

/* The pid of the process at the other end of a UNIX socket (SO_PEERCRED, as of its connect), or -errno. */
int shim_peer_pid(int fd) {
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return -errno;
    return (int)cred.pid;
}

/* fcntl(F_SETFD, FD_CLOEXEC): an inherited fd must not leak into processes we might start. */
int shim_set_cloexec(int fd) { return fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ? -errno : 0; }

/* sendmsg of len bytes with MSG_NOSIGNAL, carrying the fd pass_fd (SCM_RIGHTS) unless it is negative.
 * One fd per message: the receiver pairs it with the message's text. Returns bytes sent or -errno. */
int shim_send_fd(int sock, long long buf, int len, int pass_fd) {
    struct iovec iov = {.iov_base = ADDR(buf), .iov_len = (size_t)len};
    union {
        struct cmsghdr align;
        char bytes[CMSG_SPACE(sizeof(int))];
    } control;
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    memset(&control, 0, sizeof control);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (pass_fd >= 0) {
        msg.msg_control = control.bytes;
        msg.msg_controllen = sizeof control.bytes;
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
    }
    ssize_t n;
    do n = sendmsg(sock, &msg, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : (int)n;
}

/* recvmsg into buf with room for one fd (MSG_CMSG_CLOEXEC): writes the fd received, or -1, as an int32
 * at out_fd. Extra fds a peer sent do not fit, and the kernel closes them (MSG_CTRUNC).
 * Returns bytes read (0 = EOF) or -errno. */
int shim_recv_fd(int sock, long long buf, int len, long long out_fd) {
    struct iovec iov = {.iov_base = ADDR(buf), .iov_len = (size_t)len};
    union {
        struct cmsghdr align;
        char bytes[CMSG_SPACE(sizeof(int))];
    } control;
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.bytes;
    msg.msg_controllen = sizeof control.bytes;
    ssize_t n;
    do n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    int32_t fd = -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
            memcpy(&fd, CMSG_DATA(c), sizeof(int));
        }
    }
    memcpy(ADDR(out_fd), &fd, 4);
    return (int)n;
}

/* ---- socket files: created out of reach, removed only while they are ours ----------------------- */
/* Paths are NUL-terminated byte strings at an address. None of these follow a symlink at the last
 * component except chmod, which the caller uses only inside a directory no one else can write. */

static void put_stat(const struct stat *st, long long out) {
    unsigned char *p = ADDR(out);
    int64_t dev = (int64_t)st->st_dev, ino = (int64_t)st->st_ino;
    int32_t mode = (int32_t)st->st_mode, uid = (int32_t)st->st_uid;
    memcpy(p, &dev, 8);
    memcpy(p + 8, &ino, 8);
    memcpy(p + 16, &mode, 4);
    memcpy(p + 20, &uid, 4);
}

/* lstat: the identity of the file at path itself (a symlink is not followed), SHIM_STAT_SIZE bytes at out. */
int shim_lstat(long long path, long long out) {
    struct stat st;
    if (lstat(ADDR(path), &st) < 0) return -errno;
    put_stat(&st, out);
    return 0;
}

/* fstat: as shim_lstat, for an open fd. */
int shim_fstat(int fd, long long out) {
    struct stat st;
    if (fstat(fd, &st) < 0) return -errno;
    put_stat(&st, out);
    return 0;
}

/* mkdir: fails with -EEXIST if anything (a symlink too) is at path. */
int shim_mkdir(long long path, int mode) { return mkdir(ADDR(path), (mode_t)mode) < 0 ? -errno : 0; }

int shim_rmdir(long long path) { return rmdir(ADDR(path)) < 0 ? -errno : 0; }

/* unlink removes the name itself: a symlink, never what it points to. */
int shim_unlink(long long path) { return unlink(ADDR(path)) < 0 ? -errno : 0; }

/* renameat2(AT_FDCWD, from, AT_FDCWD, to, flags): replaces (never follows) a symlink at to; flags 1 =
 * RENAME_NOREPLACE (-EEXIST if something is at to; -EINVAL where the filesystem cannot do it). Called
 * through syscall(2): glibc has the wrapper only since 2.28 and musl never had it. */
int shim_rename(long long from, long long to, int flags) {
    long rc = syscall(SYS_renameat2, AT_FDCWD, (const char *)ADDR(from), AT_FDCWD, (const char *)ADDR(to), (unsigned int)flags);
    return rc < 0 ? -errno : 0;
}

/* chmod follows a symlink: only for a path inside a directory no other user can write. */
int shim_chmod(long long path, int mode) { return chmod(ADDR(path), (mode_t)mode) < 0 ? -errno : 0; }

/* open(O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC): a directory fd; -ENOTDIR or -ELOOP if path is not
 * a directory itself (a symlink to one included). */
int shim_open_directory(long long path) {
    int fd;
    do fd = open(ADDR(path), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC); while (fd < 0 && errno == EINTR);
    return fd < 0 ? -errno : fd;
}

/* ---- errors and constants ------------------------------------------------------------------- */

/* shim_strerror lives in strerror.c: it needs the POSIX strerror_r, which _GNU_SOURCE above would hide. */
