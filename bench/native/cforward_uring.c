/*
 * cforward's io_uring mode, through the raw syscalls (io_uring_setup, io_uring_enter, the rings mmap'd;
 * no liburing). Every socket has a recv outstanding; its completion submits the send of what came to
 * the other socket (MSG_WAITALL: io_uring itself retries a partial send until all is sent or it fails),
 * and the direction's next recv after it. Completions are handled in batches: everything a batch
 * submits goes in with the one io_uring_enter that also waits for the next completions.
 *
 * linked (mode uring): the send and the next recv are one chain (IOSQE_IO_LINK), and the send posts no
 * completion when it succeeds (IOSQE_CQE_SKIP_SUCCESS): one completion per message and direction, the
 * recv's. Unlinked (mode uring-unlinked): the recv is submitted when the send's completion comes.
 * Recvs are submitted with IORING_RECVSEND_POLL_FIRST: the socket was just drained, so the kernel arms
 * its poll at once instead of trying a recv that would find nothing.
 *
 * The ring is set up with IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN when the kernel has
 * them (6.1+): completions are then run in this thread, inside io_uring_enter, not on any return from a
 * syscall or interrupt.
 *
 * A connection ends on EOF or an error on either socket: both sockets are shut down, which completes
 * whatever is outstanding on them, and closed when the last of it has completed.
 */
#define _GNU_SOURCE
#include "cforward.h"

#include <errno.h>
#include <linux/io_uring.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SQ_ENTRIES 1024
#define CQ_ENTRIES 32768 /* 5,000 held connections, up to 4 completions outstanding each */

/* user_data: a pointer (malloc aligns to 16) | one of these. */
enum { T_ACCEPT, T_CONNECT, T_RECV0, T_RECV1, T_SEND0, T_SEND1 };
#define TAG_MASK 7ULL

struct side {
    int fd;
    int len; /* bytes read from fd, being sent to the other side */
    /* Linked, a chain whose send fails ends with the send's completion; the recv it cancels posts none
     * (Linux 6.18: a link whose head has IOSQE_CQE_SKIP_SUCCESS skips the cancelled ones' too). A kernel
     * that posts one is not supported: the send's completion may already have freed the pair. */
    int chain_ended;
    char buf[CF_BUFFER_SIZE];
};

struct pair {
    struct side s[2]; /* 0 the client, 1 the backend */
    int outstanding; /* submitted requests not yet completed; a linked chain counts once, as its recv */
    int closing;
    struct sockaddr_in backend;
};

static struct {
    int fd;
    unsigned *sq_head, *sq_tail, sq_mask, *sq_array, sq_entries, tail;
    struct io_uring_sqe *sqes;
    unsigned *cq_head, *cq_tail, cq_mask;
    struct io_uring_cqe *cqes;
} ring;

static int linked;

static int sys_setup(unsigned entries, struct io_uring_params *p) {
    return (int)syscall(__NR_io_uring_setup, entries, p);
}

static int sys_enter(unsigned submit, unsigned wait, unsigned flags) {
    return (int)syscall(__NR_io_uring_enter, ring.fd, submit, wait, flags, NULL, 0);
}

static void setup(void) {
    struct io_uring_params p;
    unsigned tries[] = {IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, IORING_SETUP_CQSIZE};
    for (unsigned i = 0; i < 2; i++) {
        memset(&p, 0, sizeof p);
        p.flags = tries[i];
        p.cq_entries = CQ_ENTRIES;
        ring.fd = sys_setup(SQ_ENTRIES, &p);
        if (ring.fd >= 0) break;
        if (errno != EINVAL) cf_die("io_uring_setup");
    }
    if (ring.fd < 0) cf_die("io_uring_setup");
    if (!(p.features & IORING_FEAT_SINGLE_MMAP)) {
        errno = ENOSYS;
        cf_die("io_uring without IORING_FEAT_SINGLE_MMAP");
    }
    size_t sq_size = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    size_t cq_size = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    size_t size = sq_size > cq_size ? sq_size : cq_size;
    char *sq = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring.fd, IORING_OFF_SQ_RING);
    if (sq == MAP_FAILED) cf_die("mmap of the rings");
    ring.sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
                     ring.fd, IORING_OFF_SQES);
    if (ring.sqes == MAP_FAILED) cf_die("mmap of the submission entries");
    ring.sq_head = (unsigned *)(sq + p.sq_off.head);
    ring.sq_tail = (unsigned *)(sq + p.sq_off.tail);
    ring.sq_mask = *(unsigned *)(sq + p.sq_off.ring_mask);
    ring.sq_array = (unsigned *)(sq + p.sq_off.array);
    ring.sq_entries = p.sq_entries;
    ring.tail = *ring.sq_tail;
    ring.cq_head = (unsigned *)(sq + p.cq_off.head);
    ring.cq_tail = (unsigned *)(sq + p.cq_off.tail);
    ring.cq_mask = *(unsigned *)(sq + p.cq_off.ring_mask);
    ring.cqes = (struct io_uring_cqe *)(sq + p.cq_off.cqes);
    fprintf(stderr, "cforward: io_uring, %s\n",
            (p.flags & IORING_SETUP_DEFER_TASKRUN) ? "SINGLE_ISSUER | DEFER_TASKRUN" : "no DEFER_TASKRUN (older kernel)");
}

/* Queued entries not yet handed to the kernel. */
static unsigned pending(void) { return ring.tail - __atomic_load_n(ring.sq_head, __ATOMIC_ACQUIRE); }

static void publish(void) { __atomic_store_n(ring.sq_tail, ring.tail, __ATOMIC_RELEASE); }

static struct io_uring_sqe *next_sqe(void) {
    while (pending() >= ring.sq_entries) { /* full: hand over what is queued without waiting */
        publish();
        if (sys_enter(pending(), 0, 0) < 0 && errno != EINTR && errno != EAGAIN && errno != EBUSY) cf_die("io_uring_enter");
    }
    unsigned idx = ring.tail & ring.sq_mask;
    struct io_uring_sqe *e = &ring.sqes[idx];
    memset(e, 0, sizeof *e);
    ring.sq_array[idx] = idx;
    ring.tail++;
    return e;
}

static uint64_t tag(void *ptr, int t) { return (uint64_t)(uintptr_t)ptr | (uint64_t)t; }

static void submit_accept(struct cf_forward *f) {
    struct io_uring_sqe *e = next_sqe();
    e->opcode = IORING_OP_ACCEPT;
    e->fd = f->listen_fd;
    e->accept_flags = SOCK_CLOEXEC;
    e->user_data = tag(f, T_ACCEPT);
}

static void submit_recv(struct pair *p, int i) {
    struct io_uring_sqe *e = next_sqe();
    e->opcode = IORING_OP_RECV;
    e->fd = p->s[i].fd;
    e->addr = (uint64_t)(uintptr_t)p->s[i].buf;
    e->len = sizeof p->s[i].buf;
    e->ioprio = IORING_RECVSEND_POLL_FIRST;
    e->user_data = tag(p, T_RECV0 + i);
    p->outstanding++;
}

/* The send of side i's data to the other side; linked, the next recv on side i after it. */
static void submit_send(struct pair *p, int i) {
    struct io_uring_sqe *e = next_sqe();
    e->opcode = IORING_OP_SEND;
    e->fd = p->s[1 - i].fd;
    e->addr = (uint64_t)(uintptr_t)p->s[i].buf;
    e->len = (unsigned)p->s[i].len;
    e->msg_flags = MSG_NOSIGNAL | MSG_WAITALL;
    e->user_data = tag(p, T_SEND0 + i);
    p->s[i].chain_ended = 0;
    if (linked) {
        e->flags = IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS; /* a failed send still completes, and cancels the recv */
        submit_recv(p, i);
    } else {
        p->outstanding++;
    }
}

static void finish(struct pair *p) {
    if (p->outstanding > 0) return;
    close(p->s[0].fd);
    close(p->s[1].fd);
    free(p);
}

static void end_pair(struct pair *p) {
    if (!p->closing) {
        p->closing = 1;
        shutdown(p->s[0].fd, SHUT_RDWR); /* completes what is outstanding on them */
        shutdown(p->s[1].fd, SHUT_RDWR);
    }
    finish(p);
}

static void on_accept(struct cf_forward *f, int res) {
    submit_accept(f);
    if (res < 0) return;
    struct pair *p = malloc(sizeof *p);
    int b = p ? cf_backend_socket(0) : -1;
    if (b < 0) {
        close(res);
        free(p);
        return;
    }
    p->s[0].fd = res, p->s[1].fd = b;
    for (int i = 0; i < 2; i++) p->s[i].len = p->s[i].chain_ended = 0; /* not the buffers */
    p->outstanding = 1, p->closing = 0;
    p->backend = f->backend;
    struct io_uring_sqe *e = next_sqe();
    e->opcode = IORING_OP_CONNECT;
    e->fd = b;
    e->addr = (uint64_t)(uintptr_t)&p->backend;
    e->off = sizeof p->backend;
    e->user_data = tag(p, T_CONNECT);
}

static void on_completion(uint64_t data, int res) {
    int t = (int)(data & TAG_MASK);
    void *ptr = (void *)(uintptr_t)(data & ~TAG_MASK);
    if (t == T_ACCEPT) return on_accept(ptr, res);
    struct pair *p = ptr;
    if (t == T_SEND0 || t == T_SEND1) {
        /* Linked, only a failed send completes (an error, or less than all sent), and ends its chain. */
        int i = t - T_SEND0;
        if (!linked || !p->s[i].chain_ended) p->outstanding--;
        p->s[i].chain_ended = 1;
        if (linked || res != p->s[i].len || p->closing) return end_pair(p);
        return submit_recv(p, i);
    }
    if (linked && res == -ECANCELED && t != T_CONNECT) { /* its send failed */
        struct side *s = &p->s[t - T_RECV0];
        if (!s->chain_ended) p->outstanding--;
        s->chain_ended = 1;
    } else {
        p->outstanding--;
    }
    if (p->closing || res < 0 || (res == 0 && t != T_CONNECT)) return end_pair(p); /* a recv's 0 is EOF */
    if (t == T_CONNECT) {
        submit_recv(p, 0);
        submit_recv(p, 1);
        return;
    }
    int i = t - T_RECV0;
    p->s[i].len = res;
    submit_send(p, i);
}

int cf_run_uring(struct cf_forward *fw, int n, int link) {
    linked = link;
    setup();
    for (int i = 0; i < n; i++) submit_accept(&fw[i]);
    cf_announce(fw, n);
    for (;;) {
        publish();
        if (sys_enter(pending(), 1, IORING_ENTER_GETEVENTS) < 0 && errno != EINTR && errno != EAGAIN && errno != EBUSY)
            cf_die("io_uring_enter");
        unsigned head = *ring.cq_head, tail = __atomic_load_n(ring.cq_tail, __ATOMIC_ACQUIRE);
        for (; head != tail; head++) {
            struct io_uring_cqe *c = &ring.cqes[head & ring.cq_mask];
            on_completion(c->user_data, c->res);
        }
        __atomic_store_n(ring.cq_head, head, __ATOMIC_RELEASE);
    }
}
