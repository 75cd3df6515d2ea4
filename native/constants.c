/*
 * The values of the constants the Java side names, read from the system headers, so a test can
 * assert that every constant typed in Java matches this platform (see ConstantsTest). Not on any
 * hot path: called once per name.
 */
#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
/* io_uring's uapi header is a kernel header: musl-gcc (the shim's Alpine build check) does not see /usr/include/linux,
 * and there the table simply lacks these names (the shim's functions do not need it). */
#if defined(__has_include)
#if __has_include(<linux/io_uring.h>) && __has_include(<linux/time_types.h>)
#include <linux/io_uring.h>
#include <linux/time_types.h>
#define HAVE_IO_URING_H 1
#endif
#endif

#define C(name) {#name, name}
/* A struct's size or a field's offset, named as the C expression ("sizeof(struct io_uring_sqe)"). */
#define SIZE(type) {"sizeof(" #type ")", (long long)sizeof(type)}
#define OFF(type, field) {"offsetof(" #type ", " #field ")", (long long)offsetof(type, field)}

static const struct {
    const char *name;
    long long value;
} TABLE[] = {
    /* epoll */
    C(EPOLLIN), C(EPOLLPRI), C(EPOLLOUT), C(EPOLLERR), C(EPOLLHUP), C(EPOLLRDHUP), C(EPOLLET),
    C(EPOLLONESHOT), C(EPOLLEXCLUSIVE), C(EPOLL_CTL_ADD), C(EPOLL_CTL_MOD), C(EPOLL_CTL_DEL),
    /* errno */
    C(EPERM), C(ENOENT), C(EINTR), C(EIO), C(EBADF), C(EAGAIN), C(EWOULDBLOCK), C(ENOMEM), C(EACCES),
    C(EFAULT), C(EBUSY), C(EEXIST), C(ENOTDIR), C(EINVAL), C(ENFILE), C(EMFILE), C(ENOSPC), C(EPIPE), C(ENOSYS),
    C(ENOTSOCK), C(EDESTADDRREQ), C(EMSGSIZE), C(EPROTOTYPE), C(ENOPROTOOPT), C(EPROTONOSUPPORT),
    C(EOPNOTSUPP), C(EAFNOSUPPORT), C(EADDRINUSE), C(EADDRNOTAVAIL), C(ENETDOWN), C(ENETUNREACH),
    C(ENETRESET), C(ECONNABORTED), C(ECONNRESET), C(ENOBUFS), C(EISCONN), C(ENOTCONN), C(ESHUTDOWN),
    C(ETIMEDOUT), C(ECONNREFUSED), C(EHOSTDOWN), C(EHOSTUNREACH), C(EALREADY), C(EINPROGRESS),
    C(ECANCELED), C(ETIME), C(EBADFD),
    /* sockets */
    C(AF_INET), C(AF_INET6), C(AF_UNIX), C(SOCK_STREAM), C(SOCK_DGRAM), C(SOCK_NONBLOCK), C(SOCK_CLOEXEC),
    C(SOL_SOCKET), C(SO_REUSEADDR), C(SO_REUSEPORT), C(SO_KEEPALIVE), C(SO_LINGER), C(SO_ERROR),
    C(SO_SNDBUF), C(SO_RCVBUF), C(SO_TYPE), C(IPPROTO_TCP), C(IPPROTO_UDP), C(IPPROTO_IPV6),
    C(TCP_NODELAY), C(TCP_KEEPIDLE), C(TCP_KEEPINTVL), C(TCP_KEEPCNT), C(IPV6_V6ONLY),
    C(SHUT_RD), C(SHUT_WR), C(SHUT_RDWR), C(MSG_NOSIGNAL), C(MSG_TRUNC), C(MSG_WAITALL),
    C(AF_UNIX), C(SO_ACCEPTCONN), C(SO_PEERCRED), C(ENAMETOOLONG),
    /* files */
    C(ELOOP), C(EISDIR), C(EXDEV), C(S_IFMT), C(S_IFSOCK), C(S_IFDIR), C(S_IFREG), C(S_IFLNK), C(SHIM_STAT_SIZE),
    /* fcntl, splice */
    C(O_NONBLOCK), C(SPLICE_F_MOVE), C(SPLICE_F_NONBLOCK), C(SPLICE_F_MORE),
    /* mmap, poll(2) */
    C(PROT_READ), C(PROT_WRITE), C(MAP_SHARED), C(MAP_POPULATE), C(POLLIN), C(POLLOUT), C(POLLERR), C(POLLHUP),
    C(POLLRDHUP),
#ifdef HAVE_IO_URING_H
    /* io_uring */
    C(IORING_SETUP_CQSIZE), C(IORING_SETUP_R_DISABLED), C(IORING_SETUP_SUBMIT_ALL), C(IORING_SETUP_SINGLE_ISSUER), C(IORING_SETUP_DEFER_TASKRUN),
    C(IORING_ENTER_GETEVENTS), C(IORING_ENTER_EXT_ARG), C(IORING_REGISTER_ENABLE_RINGS), C(IORING_OFF_SQ_RING), C(IORING_OFF_SQES),
    C(IORING_FEAT_SINGLE_MMAP), C(IORING_FEAT_NODROP), C(IORING_FEAT_EXT_ARG), C(IORING_FEAT_CQE_SKIP),
    C(IORING_OP_NOP), C(IORING_OP_POLL_ADD), C(IORING_OP_POLL_REMOVE), C(IORING_OP_ASYNC_CANCEL), C(IORING_OP_SEND),
    C(IORING_POLL_ADD_MULTI), C(IORING_POLL_UPDATE_EVENTS), C(IORING_POLL_UPDATE_USER_DATA), C(IORING_CQE_F_MORE),
    C(IOSQE_FIXED_FILE), C(IOSQE_IO_DRAIN), C(IOSQE_IO_LINK), C(IOSQE_IO_HARDLINK), C(IOSQE_ASYNC),
    C(IOSQE_CQE_SKIP_SUCCESS),
    SIZE(struct io_uring_params), OFF(struct io_uring_params, sq_entries), OFF(struct io_uring_params, cq_entries),
    OFF(struct io_uring_params, flags), OFF(struct io_uring_params, features), OFF(struct io_uring_params, sq_off),
    OFF(struct io_uring_params, cq_off),
    OFF(struct io_sqring_offsets, head), OFF(struct io_sqring_offsets, tail), OFF(struct io_sqring_offsets, ring_mask),
    OFF(struct io_sqring_offsets, ring_entries), OFF(struct io_sqring_offsets, array),
    OFF(struct io_cqring_offsets, head), OFF(struct io_cqring_offsets, tail), OFF(struct io_cqring_offsets, ring_mask),
    OFF(struct io_cqring_offsets, ring_entries), OFF(struct io_cqring_offsets, overflow), OFF(struct io_cqring_offsets, cqes),
    SIZE(struct io_uring_sqe), OFF(struct io_uring_sqe, opcode), OFF(struct io_uring_sqe, flags),
    OFF(struct io_uring_sqe, ioprio), OFF(struct io_uring_sqe, fd), OFF(struct io_uring_sqe, off),
    OFF(struct io_uring_sqe, addr), OFF(struct io_uring_sqe, len), OFF(struct io_uring_sqe, poll32_events),
    OFF(struct io_uring_sqe, msg_flags), OFF(struct io_uring_sqe, user_data),
    SIZE(struct io_uring_cqe), OFF(struct io_uring_cqe, user_data), OFF(struct io_uring_cqe, res),
    OFF(struct io_uring_cqe, flags),
    SIZE(struct io_uring_getevents_arg), OFF(struct io_uring_getevents_arg, ts), SIZE(struct __kernel_timespec),
#endif
    C(SHIM_IORING_ENTER_EXT_ARG), C(SHIM_GETEVENTS_ARG_SIZE),
    /* the shim's own layouts */
    C(SHIM_EVENT_SIZE), C(SHIM_ADDR_SIZE), C(SHIM_MAX_EVENTS),
};

/* The value of the named constant, or LLONG_MIN if the shim does not know the name. */
long long shim_constant(const char *name) {
    for (size_t i = 0; i < sizeof TABLE / sizeof TABLE[0]; i++)
        if (strcmp(TABLE[i].name, name) == 0) return TABLE[i].value;
    return LLONG_MIN;
}
