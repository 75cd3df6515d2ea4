/*
 * The echo backend of the benchmark scripts, in C: every byte a client sends comes back on the same
 * connection. Unlike the Java EchoServer it has no JIT to warm and no GC, so on two shared cores the CPU it
 * takes per round trip is small and the same from the first second: what a script measures is the
 * forwarder in front of it.
 *
 *   echoserver PORT     serves on 127.0.0.1:PORT (0: any free port) until killed; prints "echo PORT" once
 *                       listening, as the Java EchoServer does, so the scripts wait for either the same way
 *
 * One thread, one epoll set, level-triggered, non-blocking sockets. Each connection has one fixed buffer:
 * a read fills it, the bytes are written back at once, and only when the socket takes less than all of
 * them does the connection stop reading and wait for EPOLLOUT until the rest went (so memory is bounded
 * by connections x BUFFER_SIZE, and a client that does not read slows only itself). The client's FIN
 * (read returns 0) can only be seen with an empty buffer, so everything was echoed: the connection is
 * closed then, and on any error. Exit status 2 on a usage error, 1 when it cannot listen.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUFFER_SIZE (16 * 1024) /* per connection; a 64-byte round trip touches one page of it */
#define LISTEN_BACKLOG 4096     /* the Java EchoServer's: a connection-rate run's bursts fit */
#define MAX_EVENTS 256

struct conn {
    int fd;
    unsigned len, off; /* buf[off, len): read, not yet written back */
    char buf[BUFFER_SIZE];
};

static int epfd, listen_fd, spare_fd = -1;

static void close_conn(struct conn *c) {
    close(c->fd); /* removes it from the epoll set too: no other descriptor shares the socket */
    free(c);
}

/* Interest in readable (buffer empty) or writable (bytes pending): never both, so a level-triggered set
 * wakes us only for what we can act on. */
static int want(struct conn *c, uint32_t events) {
    struct epoll_event ev = {.events = events, .data.ptr = c};
    return epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Writes buf[off, len) back: 0 when all went, 1 when the socket took less (the rest waits), -1 on an error. */
static int flush(struct conn *c) {
    while (c->off < c->len) {
        ssize_t n = send(c->fd, c->buf + c->off, c->len - c->off, MSG_NOSIGNAL);
        if (n > 0) c->off += (unsigned)n;
        else if (n < 0 && errno == EINTR) continue;
        else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 1;
        else return -1;
    }
    c->off = c->len = 0;
    return 0;
}

static void on_ready(struct conn *c) {
    if (c->len > 0) { /* waiting to write the rest: EPOLLOUT, or EPOLLERR/EPOLLHUP, which send() reports */
        int r = flush(c);
        if (r < 0 || (r == 0 && want(c, EPOLLIN) != 0)) close_conn(c);
        return;
    }
    ssize_t n = recv(c->fd, c->buf, sizeof c->buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0) { /* EOF with nothing pending, or an error (a reset) */
        close_conn(c);
        return;
    }
    c->len = (unsigned)n;
    int r = flush(c);
    if (r < 0 || (r == 1 && want(c, EPOLLOUT) != 0)) close_conn(c);
}

/* When the process is out of descriptors, the pending connection would keep the level-triggered listener
 * ready forever: the spare descriptor is given up to accept it and close it at once, then taken back. */
static void shed_one(void) {
    if (spare_fd < 0) return;
    close(spare_fd);
    int fd = accept(listen_fd, NULL, NULL);
    if (fd >= 0) close(fd);
    spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    fprintf(stderr, "echoserver: out of file descriptors, a connection was closed at accept\n");
}

static void on_accept(void) {
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE) shed_one();
            /* EAGAIN: all taken; ECONNABORTED and the like: that one is gone, the next waits for epoll */
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* each echo is one segment, at once */
        struct conn *c = malloc(sizeof *c);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (!c || epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            close(fd);
            free(c);
            continue;
        }
        c->fd = fd;
        c->len = c->off = 0;
    }
}

static int listen_on(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, LISTEN_BACKLOG) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        fprintf(stderr, "echoserver: cannot listen on 127.0.0.1:%d: %s\n", port, strerror(errno));
        return -1;
    }
    listen_fd = fd;
    return ntohs(a.sin_port);
}

int main(int argc, char **argv) {
    char *end = NULL;
    long port = argc == 2 ? strtol(argv[1], &end, 10) : -1;
    if (argc != 2 || *end != '\0' || port < 0 || port > 65535) {
        fprintf(stderr, "usage: echoserver PORT   (0: any free port; serves on 127.0.0.1 until killed)\n");
        return 2;
    }
    int bound = listen_on((int)port);
    if (bound < 0) return 1;
    epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL}; /* NULL: the listener */
    if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &lev) != 0) {
        fprintf(stderr, "echoserver: epoll: %s\n", strerror(errno));
        return 1;
    }
    spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    printf("echo %d\n", bound);
    fflush(stdout);
    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(epfd, events, MAX_EVENTS, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            fprintf(stderr, "echoserver: epoll_wait: %s\n", strerror(errno));
            return 1;
        }
        for (int i = 0; i < n; i++) {
            if (events[i].data.ptr == NULL) on_accept();
            else on_ready(events[i].data.ptr);
        }
    }
}
