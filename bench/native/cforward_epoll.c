/*
 * cforward's epoll mode: the proxy's shape of I/O. Level-triggered; a readable socket whose direction's
 * buffer is empty is read once and what came is sent to the other socket at once; what the other
 * socket does not take waits in the buffer, the reading side leaves the interest set until it is sent
 * (EPOLLOUT on the other side meanwhile). A connection's backend socket connects non-blocking first.
 */
#define _GNU_SOURCE
#include "cforward.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_EVENTS 256
#define TAG_LISTENER 2 /* data.u64 = pointer | 0 or 1 (the side), or | 2 for a listener */

struct side {
    int fd;
    uint32_t interest;
    int off, len; /* bytes read from fd, waiting to go to the other side: buf[off..len) */
    char buf[CF_BUFFER_SIZE];
};

struct pair {
    struct side s[2]; /* 0 the client, 1 the backend */
    int connecting, dead;
    struct pair *next_dead;
};

static int ep;
static struct pair *dead; /* closed in this batch, freed after it: their events may still follow */

static void kill_pair(struct pair *p) {
    if (p->dead) return;
    p->dead = 1;
    close(p->s[0].fd);
    close(p->s[1].fd);
    p->next_dead = dead;
    dead = p;
}

static void set_interest(struct pair *p, int i) {
    uint32_t want = 0;
    if (!p->connecting) {
        if (p->s[i].len == 0) want |= EPOLLIN;
        if (p->s[1 - i].len > 0) want |= EPOLLOUT;
    } else if (i == 1) {
        want = EPOLLOUT;
    }
    if (want == p->s[i].interest) return;
    struct epoll_event ev = {.events = want, .data.u64 = (uint64_t)(uintptr_t)p | (uint64_t)i};
    if (epoll_ctl(ep, EPOLL_CTL_MOD, p->s[i].fd, &ev) != 0) cf_die("epoll_ctl");
    p->s[i].interest = want;
}

/* Sends what side i read to the other side; 0, or -1 when the connection is to go. */
static int flush(struct pair *p, int i) {
    struct side *s = &p->s[i];
    ssize_t n = send(p->s[1 - i].fd, s->buf + s->off, (size_t)(s->len - s->off), MSG_NOSIGNAL);
    if (n < 0) return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
    s->off += (int)n;
    if (s->off == s->len) s->off = s->len = 0;
    return 0;
}

static void on_side(struct pair *p, int i, uint32_t events) {
    if (p->dead) return;
    if (p->connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(p->s[1].fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) return kill_pair(p);
        p->connecting = 0;
    } else {
        struct side *s = &p->s[i];
        if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && s->len == 0) {
            ssize_t n = recv(s->fd, s->buf, sizeof s->buf, 0);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return kill_pair(p);
            if (n > 0) {
                s->len = (int)n;
                if (flush(p, i) != 0) return kill_pair(p);
            }
        } else if ((events & (EPOLLHUP | EPOLLERR)) && !(events & EPOLLOUT)) {
            return kill_pair(p); /* cannot read (buffer full) nor write: nothing will change */
        }
        if ((events & (EPOLLOUT | EPOLLERR)) && p->s[1 - i].len > 0 && flush(p, 1 - i) != 0) return kill_pair(p);
    }
    set_interest(p, 0);
    set_interest(p, 1);
}

static void on_listener(struct cf_forward *f) {
    for (;;) {
        int c = accept4(f->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c < 0) return; /* EAGAIN, or out of descriptors: the next wakeup tries again */
        int b = cf_backend_socket(1);
        struct pair *p = b < 0 ? NULL : calloc(1, sizeof *p);
        if (!p) {
            close(c);
            if (b >= 0) close(b);
            continue;
        }
        p->s[0].fd = c, p->s[1].fd = b;
        int r = connect(b, (struct sockaddr *)&f->backend, sizeof f->backend);
        if (r != 0 && errno != EINPROGRESS) {
            close(c), close(b), free(p);
            continue;
        }
        p->connecting = r != 0;
        for (int i = 0; i < 2; i++) {
            struct epoll_event ev = {.events = 0, .data.u64 = (uint64_t)(uintptr_t)p | (uint64_t)i};
            if (epoll_ctl(ep, EPOLL_CTL_ADD, p->s[i].fd, &ev) != 0) cf_die("epoll_ctl");
        }
        set_interest(p, 0);
        set_interest(p, 1);
    }
}

int cf_run_epoll(struct cf_forward *fw, int n) {
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) cf_die("epoll_create1");
    for (int i = 0; i < n; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)(uintptr_t)&fw[i] | TAG_LISTENER};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fw[i].listen_fd, &ev) != 0) cf_die("epoll_ctl");
    }
    cf_announce(fw, n);
    struct epoll_event evs[MAX_EVENTS];
    for (;;) {
        int k = epoll_wait(ep, evs, MAX_EVENTS, -1);
        if (k < 0 && errno != EINTR) cf_die("epoll_wait");
        for (int j = 0; j < k; j++) {
            uint64_t tag = evs[j].data.u64 & 3;
            void *ptr = (void *)(uintptr_t)(evs[j].data.u64 & ~(uint64_t)3);
            if (tag == TAG_LISTENER) on_listener(ptr);
            else on_side(ptr, (int)tag, evs[j].events);
        }
        while (dead) {
            struct pair *p = dead;
            dead = p->next_dead;
            free(p);
        }
    }
}
