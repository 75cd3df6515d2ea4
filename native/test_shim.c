/* C unit test of the shim, run by ctest: real sockets on 127.0.0.1, real epoll. */
#define _GNU_SOURCE
#include "shim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <sys/mman.h>

static int failures;
#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);  \
            failures++;                                                               \
        }                                                                             \
    } while (0)
#define P(x) ((long long)(intptr_t)(x))

static void loopback(unsigned char *addr, int port) {
    int32_t family = AF_INET, p = port, scope = 0;
    memset(addr, 0, SHIM_ADDR_SIZE);
    memcpy(addr, &family, 4);
    memcpy(addr + 4, &p, 4);
    memcpy(addr + 8, &scope, 4);
    inet_pton(AF_INET, "127.0.0.1", addr + 12);
}

static int port_of(const unsigned char *addr) {
    int32_t p;
    memcpy(&p, addr + 4, 4);
    return p;
}

/* Waits up to 2 s for one event; returns its events mask and stores its token. */
static int wait_one(int ep, long long *token) {
    unsigned char out[SHIM_EVENT_SIZE * 4];
    int n = shim_epoll_wait(ep, P(out), 4, 20000); /* generous: only a failing check waits it out */
    if (n <= 0) return n;
    int32_t events;
    memcpy(token, out, 8);
    memcpy(&events, out + 8, 4);
    return events;
}

static void test_tcp_roundtrip(void) {
    unsigned char addr[SHIM_ADDR_SIZE], peer[SHIM_ADDR_SIZE];
    int ep = shim_epoll_create();
    CHECK(ep >= 0);

    int lfd = shim_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    CHECK(lfd >= 0);
    CHECK(shim_setsockopt_int(lfd, SOL_SOCKET, SO_REUSEADDR, 1) == 0);
    CHECK(shim_getsockopt_int(lfd, SOL_SOCKET, SO_REUSEADDR) == 1);
    loopback(addr, 0);
    CHECK(shim_bind(lfd, P(addr)) == 0);
    CHECK(shim_listen(lfd, 16) == 0);
    CHECK(shim_getsockname(lfd, P(addr)) == 0);
    int port = port_of(addr);
    CHECK(port > 0);

    /* nothing pending yet: accept says EAGAIN, not 0 and not a blocking wait */
    CHECK(shim_accept(lfd, P(peer)) == -EAGAIN);

    int cfd = shim_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int rc = shim_connect(cfd, P(addr));
    CHECK(rc == 0 || rc == -EINPROGRESS);
    CHECK(shim_epoll_ctl(ep, EPOLL_CTL_ADD, cfd, EPOLLOUT, 0x123456789LL) == 0);
    long long token = 0;
    int ev = wait_one(ep, &token);
    CHECK(ev & EPOLLOUT);
    CHECK(token == 0x123456789LL);
    CHECK(shim_sock_error(cfd) == 0);

    int afd = shim_accept(lfd, P(peer));
    CHECK(afd >= 0);
    CHECK(port_of(peer) > 0);
    CHECK((shim_get_fd_flags(afd) & O_NONBLOCK) != 0);

    /* empty socket: -EAGAIN; then data; then FIN = 0 */
    char buf[64];
    CHECK(shim_recv(afd, P(buf), sizeof buf) == -EAGAIN);
    CHECK(shim_send(cfd, P("hello"), 5) == 5);
    CHECK(shim_epoll_ctl(ep, EPOLL_CTL_DEL, cfd, 0, 0) == 0);
    CHECK(shim_epoll_ctl(ep, EPOLL_CTL_ADD, afd, EPOLLIN, 7) == 0);
    ev = wait_one(ep, &token);
    CHECK((ev & EPOLLIN) && token == 7);
    CHECK(shim_recv(afd, P(buf), sizeof buf) == 5);
    CHECK(memcmp(buf, "hello", 5) == 0);
    CHECK(shim_shutdown(cfd, SHUT_WR) == 0);
    ev = wait_one(ep, &token);
    CHECK(ev & EPOLLIN);
    CHECK(shim_recv(afd, P(buf), sizeof buf) == 0);

    /* writing after our own SHUT_WR: -EPIPE, and no SIGPIPE kills this process */
    CHECK(shim_send(cfd, P("x"), 1) == -EPIPE);

    CHECK(shim_close(afd) == 0);
    CHECK(shim_close(cfd) == 0);
    CHECK(shim_close(cfd) == -EBADF);

    /* a closed port refuses: EINPROGRESS, then SO_ERROR = ECONNREFUSED */
    CHECK(shim_close(lfd) == 0);
    cfd = shim_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    rc = shim_connect(cfd, P(addr));
    CHECK(rc == -EINPROGRESS || rc == -ECONNREFUSED);
    if (rc == -EINPROGRESS) {
        CHECK(shim_epoll_ctl(ep, EPOLL_CTL_ADD, cfd, EPOLLOUT, 9) == 0);
        ev = wait_one(ep, &token);
        CHECK(ev & EPOLLERR);
        CHECK(shim_sock_error(cfd) == -ECONNREFUSED);
    }
    shim_close(cfd);
    shim_close(ep);
}

static void test_eventfd_pipe_splice(void) {
    int ep = shim_epoll_create();
    int efd = shim_eventfd();
    CHECK(efd >= 0);
    CHECK(shim_eventfd_read(efd) == -EAGAIN);
    CHECK(shim_epoll_ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 1) == 0);
    CHECK(shim_eventfd_write(efd) == 0);
    CHECK(shim_eventfd_write(efd) == 0);
    long long token;
    CHECK(wait_one(ep, &token) & EPOLLIN);
    CHECK(shim_eventfd_read(efd) == 2);
    unsigned char out[SHIM_EVENT_SIZE];
    CHECK(shim_epoll_wait(ep, P(out), 1, 0) == 0);

    long long fds = shim_pipe2();
    CHECK(fds >= 0);
    int r1 = (int)(fds >> 32), w1 = (int)(fds & 0xffffffff);
    fds = shim_pipe2();
    int r2 = (int)(fds >> 32), w2 = (int)(fds & 0xffffffff);
    CHECK(shim_pipe_size(w1) == 65536);
    CHECK(shim_set_pipe_size(w1, 200000) == 262144); /* rounded up to a power-of-two number of pages */
    CHECK(shim_pipe_size(r1) == 262144);
    CHECK(shim_set_pipe_size(r2, 4096) == 4096);
    CHECK(shim_pipe_size(w2) == 4096);
    CHECK(shim_set_pipe_size(efd, 4096) == -EBADF);
    CHECK(shim_write(w1, P("splice"), 6) == 6);
    CHECK(shim_splice(r1, w2, 4096, SPLICE_F_NONBLOCK | SPLICE_F_MOVE) == 6);
    CHECK(shim_splice(r1, w2, 4096, SPLICE_F_NONBLOCK | SPLICE_F_MOVE) == -EAGAIN);
    char buf[16];
    CHECK(shim_read(r2, P(buf), sizeof buf) == 6);
    CHECK(memcmp(buf, "splice", 6) == 0);
    shim_close(r1); shim_close(w1); shim_close(r2); shim_close(w2);
    shim_close(efd); shim_close(ep);
}

static void test_errors_and_constants(void) {
    char buf[128];
    int n = shim_strerror(ECONNREFUSED, P(buf), sizeof buf);
    CHECK(n > 0 && strcmp(buf, "Connection refused") == 0);
    CHECK(shim_strerror(ECONNREFUSED, P(buf), 5) == 4 && strcmp(buf, "Conn") == 0);
    CHECK(shim_strerror(99999, P(buf), sizeof buf) > 0 && strstr(buf, "99999") != NULL); /* unknown: still a text */
    CHECK(shim_constant("EAGAIN") == EAGAIN);
    CHECK(shim_constant("EPOLLRDHUP") == EPOLLRDHUP);
    CHECK(shim_constant("NO_SUCH_NAME") == LLONG_MIN);
    CHECK(shim_sizeof_epoll_event() == (int)sizeof(struct epoll_event));
    CHECK(shim_epoll_ctl(-1, EPOLL_CTL_ADD, 0, EPOLLIN, 0) == -EBADF);
    CHECK(shim_epoll_wait(-1, P(buf), 1, 0) == -EBADF);
    unsigned char addr[SHIM_ADDR_SIZE];
    memset(addr, 0, sizeof addr);
    int fd = shim_socket(AF_INET, SOCK_STREAM, 0);
    CHECK(shim_bind(fd, P(addr)) == -EAFNOSUPPORT); /* family 0 is refused by the shim itself */
    shim_close(fd);
}

/* dup: a second number for one open file description; epoll keys on both (epoll(7) Q&A). open: a
 * regular file, which epoll refuses with EPERM. gettid: this thread's id, the process id in main. */
static void test_dup_open_gettid(void) {
    int ep = shim_epoll_create();
    int efd = shim_eventfd();
    int d = shim_dup(efd);
    CHECK(d >= 0 && d != efd);
    CHECK((fcntl(d, F_GETFD) & FD_CLOEXEC) != 0);
    CHECK(shim_epoll_ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 1) == 0);
    CHECK(shim_epoll_ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 1) == -EEXIST);
    CHECK(shim_epoll_ctl(ep, EPOLL_CTL_ADD, d, EPOLLIN, 2) == 0);
    CHECK(shim_dup(-1) == -EBADF);
    int moved = shim_eventfd();
    CHECK(shim_dup3(moved, d) == d); /* d now names moved's eventfd: epoll's entry for d stays the old one's */
    CHECK((fcntl(d, F_GETFD) & FD_CLOEXEC) != 0);
    CHECK(shim_dup3(moved, moved) == -EINVAL);
    CHECK(shim_dup3(-1, d) == -EBADF);
    shim_close(moved);
    int file = shim_open(P("/proc/self/exe"), O_RDONLY);
    CHECK(file >= 0);
    CHECK(shim_epoll_ctl(ep, EPOLL_CTL_ADD, file, EPOLLIN, 3) == -EPERM);
    CHECK(shim_open(P("/nonexistent/x"), O_RDONLY) == -ENOENT);
    CHECK(shim_open(P("/tmp/x"), O_RDWR | O_CREAT) == -EINVAL);
    CHECK(shim_gettid() == (int)getpid());
    shim_close(file); shim_close(d); shim_close(efd); shim_close(ep);
}

/* fork() shares the epoll instance, and the child's copy of a registered fd keeps its registration alive
 * after the parent closed its own (epoll(7); the Java lesson SharedInstanceTest shows the same through
 * SCM_RIGHTS, since a JVM cannot fork). */
static void test_fork_shares_the_instance(void) {
    int ep = shim_epoll_create();
    long long fds = shim_pipe2();
    CHECK(fds >= 0);
    int r = (int)(fds >> 32), w = (int)(fds & 0xffffffff);
    CHECK(shim_epoll_ctl(ep, EPOLL_CTL_ADD, r, EPOLLIN, 5) == 0);
    /* The child must outlive the parent's own wait: its exit closes the last copy of the read end and so
     * removes the registration. It waits for a byte on this (blocking) pipe before it exits. */
    int go[2];
    CHECK(pipe(go) == 0);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) { /* the child waits on its copy of the instance: the parent's event, the parent's token */
        long long token = 0;
        int ev = wait_one(ep, &token);
        char b;
        int released = read(go[0], &b, 1) == 1;
        _exit((ev & EPOLLIN) && token == 5 && released ? 0 : 1);
    }
    close(go[0]);
    CHECK(shim_close(r) == 0); /* the child still holds a copy of the read end */
    CHECK(shim_write(w, P("x"), 1) == 1);
    long long token = 0;
    CHECK((wait_one(ep, &token) & EPOLLIN) && token == 5); /* reported for a closed fd */
    CHECK(write(go[1], "g", 1) == 1);
    close(go[1]);
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    unsigned char out[SHIM_EVENT_SIZE];
    CHECK(shim_epoll_wait(ep, P(out), 1, 0) == 0); /* the child's exit closed the last copy */
    shim_close(w); shim_close(ep);
}

/* malloc_trim gives freed C-heap pages back: 1 (released) or 0, never an error. */
static void test_malloc_trim(void) {
    enum { N = 256 };
    void *blocks[N];
    for (int i = 0; i < N; i++) {
        blocks[i] = malloc(64 * 1024);
        CHECK(blocks[i] != NULL);
        memset(blocks[i], 1, 64 * 1024);
    }
    for (int i = 0; i < N; i++) free(blocks[i]);
    int rc = shim_malloc_trim(0);
    CHECK(rc == 0 || rc == 1);
}

static long long stat_ino(const unsigned char *st) {
    int64_t v;
    memcpy(&v, st + 8, 8);
    return v;
}

static int stat_mode(const unsigned char *st) {
    int32_t v;
    memcpy(&v, st + 16, 4);
    return v;
}

/* The socket-file calls: a socket bound in a private directory, its mode set there, renamed over a
 * symlink (which is replaced, its target untouched), and removed; nothing follows a link. */
static void test_socket_files(void) {
    char base[] = "/tmp/shim-test-XXXXXX";
    CHECK(mkdtemp(base) != NULL);
    char priv[64], sock[96], target[64], victim[64], st[SHIM_STAT_SIZE], st2[SHIM_STAT_SIZE];
    snprintf(priv, sizeof priv, "%s/private", base);
    snprintf(sock, sizeof sock, "%s/s", priv);
    snprintf(target, sizeof target, "%s/front.sock", base);
    snprintf(victim, sizeof victim, "%s/victim", base);

    CHECK(shim_mkdir(P(priv), 0700) == 0);
    CHECK(shim_mkdir(P(priv), 0700) == -EEXIST);
    int dfd = shim_open_directory(P(priv));
    CHECK(dfd >= 0);
    CHECK(shim_fstat(dfd, P(st)) == 0 && (stat_mode((unsigned char *)st) & S_IFMT) == S_IFDIR);
    CHECK(shim_fstat(-1, P(st)) == -EBADF);

    int fd = shim_socket(AF_UNIX, SOCK_STREAM, 0);
    unsigned char addr[SHIM_ADDR_SIZE];
    int32_t family = AF_UNIX;
    memset(addr, 0, sizeof addr);
    memcpy(addr, &family, 4);
    memcpy(addr + 12, sock, strlen(sock) + 1);
    CHECK(shim_bind(fd, P(addr)) == 0);
    CHECK(shim_chmod(P(sock), 0640) == 0);
    CHECK(shim_lstat(P(sock), P(st)) == 0);
    CHECK((stat_mode((unsigned char *)st) & S_IFMT) == S_IFSOCK);
    CHECK((stat_mode((unsigned char *)st) & 0777) == 0640);

    int vfd = open(victim, O_CREAT | O_WRONLY, 0644);
    CHECK(vfd >= 0);
    close(vfd);
    CHECK(symlink(victim, target) == 0);
    CHECK(shim_open_directory(P(target)) == -ENOTDIR || shim_open_directory(P(target)) == -ELOOP);
    CHECK(shim_rename(P(sock), P(target), RENAME_NOREPLACE) == -EEXIST || shim_rename(P(sock), P(target), RENAME_NOREPLACE) == -EINVAL);
    CHECK(shim_rename(P(sock), P(target), 0) == 0); /* the symlink is replaced, not followed */
    CHECK(shim_lstat(P(target), P(st2)) == 0 && stat_ino((unsigned char *)st2) == stat_ino((unsigned char *)st));
    CHECK(shim_lstat(P(victim), P(st2)) == 0 && (stat_mode((unsigned char *)st2) & 07777) == 0644);
    CHECK(shim_lstat(P(sock), P(st2)) == -ENOENT);
    CHECK(shim_rmdir(P(priv)) == 0);
    CHECK(shim_unlink(P(target)) == 0);
    CHECK(shim_unlink(P(target)) == -ENOENT);
    CHECK(shim_unlink(P(victim)) == 0);
    CHECK(shim_rmdir(P(base)) == 0);
    shim_close(dfd);
    shim_close(fd);
}

static void test_peer_credentials(void) {
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    CHECK(shim_peer_pid(sv[0]) == (int)getpid());
    CHECK(shim_peer_uid(sv[1]) == shim_getuid());
    shim_close(sv[0]);
    shim_close(sv[1]);
    CHECK(shim_peer_pid(sv[0]) == -EBADF);
}

/* One NOP through a ring set up and mapped with the shim's calls: the user_data comes back in its completion. */
static void test_io_uring_nop(void) {
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    int fd = shim_io_uring_setup(4, P(&p));
    if (fd == -ENOSYS || fd == -EPERM) {
        fprintf(stderr, "io_uring refused here (%s): its check is skipped\n", fd == -ENOSYS ? "ENOSYS" : "EPERM");
        return;
    }
    CHECK(fd >= 0);
    if (fd < 0) return;
    CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0); /* the kernel makes it close-on-exec */
    CHECK(p.features & IORING_FEAT_SINGLE_MMAP);
    size_t sq_size = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    size_t cq_size = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    size_t size = sq_size > cq_size ? sq_size : cq_size;
    long long rings = shim_mmap((long long)size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
    long long sqes = shim_mmap(p.sq_entries * (long long)sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
                               MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
    CHECK(rings > 0 && sqes > 0);
    if (rings <= 0 || sqes <= 0) return;
    char *r = (char *)(intptr_t)rings;
    unsigned *sq_tail = (unsigned *)(r + p.sq_off.tail), *cq_tail = (unsigned *)(r + p.cq_off.tail);
    unsigned *cq_head = (unsigned *)(r + p.cq_off.head);
    unsigned tail = *sq_tail, idx = tail & *(unsigned *)(r + p.sq_off.ring_mask);
    struct io_uring_sqe *e = (struct io_uring_sqe *)(intptr_t)sqes + idx;
    memset(e, 0, sizeof *e);
    e->opcode = IORING_OP_NOP;
    e->user_data = 0x1234567890abcdefULL;
    ((unsigned *)(r + p.sq_off.array))[idx] = idx;
    __atomic_store_n(sq_tail, tail + 1, __ATOMIC_RELEASE);
    CHECK(shim_io_uring_enter(fd, 1, 1, IORING_ENTER_GETEVENTS, 0) == 1);
    unsigned head = *cq_head;
    CHECK(__atomic_load_n(cq_tail, __ATOMIC_ACQUIRE) == head + 1);
    struct io_uring_cqe *c = (struct io_uring_cqe *)(r + p.cq_off.cqes) + (head & *(unsigned *)(r + p.cq_off.ring_mask));
    CHECK(c->user_data == 0x1234567890abcdefULL && c->res == 0);
    __atomic_store_n(cq_head, head + 1, __ATOMIC_RELEASE);
    CHECK(shim_io_uring_enter(-1, 0, 0, 0, 0) == -EBADF);
    /* A timed wait with nothing to come: the kernel took the argument's size (-ETIME, not -EINVAL). */
    struct __kernel_timespec ts = {.tv_sec = 0, .tv_nsec = 1000000};
    struct io_uring_getevents_arg arg = {.ts = (uint64_t)(uintptr_t)&ts};
    CHECK(shim_io_uring_enter(fd, 0, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, P(&arg)) == -ETIME);
    CHECK(shim_io_uring_enter(fd, 0, 1, IORING_ENTER_GETEVENTS, P(&arg)) == -EINVAL); /* no signal masks */
    CHECK(SHIM_GETEVENTS_ARG_SIZE == sizeof arg && SHIM_IORING_ENTER_EXT_ARG == IORING_ENTER_EXT_ARG);
    CHECK(shim_io_uring_register(fd, IORING_REGISTER_ENABLE_RINGS, 0, 0) == -EBADFD); /* it was never disabled */
    CHECK(shim_munmap(sqes, p.sq_entries * (long long)sizeof(struct io_uring_sqe)) == 0);
    CHECK(shim_munmap(rings, (long long)size) == 0);
    CHECK(shim_mmap(4096, PROT_READ, MAP_SHARED, fd, 12345) == -EINVAL); /* not one of the ring offsets */
    CHECK(shim_close(fd) == 0);
}

int main(void) {
    test_io_uring_nop();
    test_tcp_roundtrip();
    test_malloc_trim();
    test_eventfd_pipe_splice();
    test_errors_and_constants();
    test_socket_files();
    test_peer_credentials();
    test_dup_open_gettid();
    test_fork_shares_the_instance();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("shim C tests passed\n");
    return 0;
}
