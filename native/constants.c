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
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define C(name) {#name, name}

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
    /* sockets */
    C(AF_INET), C(AF_INET6), C(AF_UNIX), C(SOCK_STREAM), C(SOCK_DGRAM), C(SOCK_NONBLOCK), C(SOCK_CLOEXEC),
    C(SOL_SOCKET), C(SO_REUSEADDR), C(SO_REUSEPORT), C(SO_KEEPALIVE), C(SO_LINGER), C(SO_ERROR),
    C(SO_SNDBUF), C(SO_RCVBUF), C(SO_TYPE), C(IPPROTO_TCP), C(IPPROTO_UDP), C(IPPROTO_IPV6),
    C(TCP_NODELAY), C(TCP_KEEPIDLE), C(TCP_KEEPINTVL), C(TCP_KEEPCNT), C(IPV6_V6ONLY),
    C(SHUT_RD), C(SHUT_WR), C(SHUT_RDWR), C(MSG_NOSIGNAL), C(MSG_TRUNC),
    C(AF_UNIX), C(SO_ACCEPTCONN), C(SO_PEERCRED), C(ENAMETOOLONG),
    /* files */
    C(ELOOP), C(EISDIR), C(EXDEV), C(S_IFMT), C(S_IFSOCK), C(S_IFDIR), C(S_IFREG), C(S_IFLNK), C(SHIM_STAT_SIZE),
    /* fcntl, splice */
    C(O_NONBLOCK), C(SPLICE_F_MOVE), C(SPLICE_F_NONBLOCK), C(SPLICE_F_MORE),
    /* the shim's own layouts */
    C(SHIM_EVENT_SIZE), C(SHIM_ADDR_SIZE), C(SHIM_MAX_EVENTS),
};

/* The value of the named constant, or LLONG_MIN if the shim does not know the name. */
long long shim_constant(const char *name) {
    for (size_t i = 0; i < sizeof TABLE / sizeof TABLE[0]; i++)
        if (strcmp(TABLE[i].name, name) == 0) return TABLE[i].value;
    return LLONG_MIN;
}
