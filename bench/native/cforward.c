/*
 * cforward MODE LISTEN_PORT:BACKEND_PORT...
 *   MODE epoll: level-triggered epoll, recv then send at once (the proxy's shape).
 *   MODE uring: io_uring by raw syscalls; a recv outstanding on every socket, the send submitted when
 *        its recv completes, linked to the direction's next recv; one io_uring_enter per batch of
 *        completions submits everything and waits for the next ones.
 *   MODE uring-unlinked: as uring, but the send and the next recv are submitted one after the other,
 *        each with its own completion.
 * Listens on 127.0.0.1 (LISTEN_PORT 0: a port the kernel picks) and connects every client to
 * 127.0.0.1:BACKEND_PORT; prints "forward 127.0.0.1:PORT -> 127.0.0.1:BACKEND_PORT" per forward once it
 * listens. Runs until killed (SIGTERM, SIGINT); exit status 2 on a usage error.
 * See cforward.h for why it exists.
 */
#define _GNU_SOURCE
#include "cforward.h"

#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct cf_forward forwards[CF_MAX_FORWARDS];
static int nforwards;

/* SIGTERM, SIGINT: the listening sockets stop listening before the process goes. With io_uring an accept
 * outstanding holds its listener open until the ring is torn down, after the exit, and meanwhile the
 * port would still accept connections nobody serves and refuse the next forwarder's bind. */
static void on_stop(int sig) {
    (void)sig;
    for (int i = 0; i < nforwards; i++) shutdown(forwards[i].listen_fd, SHUT_RDWR);
    _exit(0);
}

/* A port number that ends at the end of s or at a ':', at least min; else -1. */
static int port_of(const char *s, int min) {
    char *end;
    long p = strtol(s, &end, 10);
    return (end != s && (*end == '\0' || *end == ':') && p >= min && p < 65536) ? (int)p : -1;
}

static int usage(void) {
    fprintf(stderr, "usage: cforward epoll|uring|uring-unlinked LISTEN_PORT:BACKEND_PORT...\n");
    return 2;
}

int main(int argc, char **argv) {
    if (argc < 3 || argc - 2 > CF_MAX_FORWARDS) return usage();
    const char *mode = argv[1];
    int uring = strcmp(mode, "uring") == 0, unlinked = strcmp(mode, "uring-unlinked") == 0;
    if (!uring && !unlinked && strcmp(mode, "epoll") != 0) return usage();
    signal(SIGPIPE, SIG_IGN);
    struct cf_forward *fw = forwards;
    int n = argc - 2;
    for (int i = 0; i < n; i++) {
        const char *colon = strchr(argv[i + 2], ':');
        int lp = port_of(argv[i + 2], 0), bp = colon ? port_of(colon + 1, 1) : -1;
        if (lp < 0 || bp < 0) {
            fprintf(stderr, "cforward: '%s' is not LISTEN_PORT:BACKEND_PORT\n", argv[i + 2]);
            return 2;
        }
        fw[i].listen_fd = cf_listen(lp, !(uring || unlinked));
        memset(&fw[i].backend, 0, sizeof fw[i].backend);
        fw[i].backend.sin_family = AF_INET;
        fw[i].backend.sin_port = htons((uint16_t)bp);
        fw[i].backend.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        nforwards = i + 1;
    }
    signal(SIGTERM, on_stop);
    signal(SIGINT, on_stop);
    return (uring || unlinked) ? cf_run_uring(fw, n, uring) : cf_run_epoll(fw, n);
}
