/*
 * cforward: a minimal single-threaded TCP forwarder in C, for one measurement only (bench/compare.sh's
 * c-epoll and c-uring rows): what CPU a round trip costs with the proxy's shape of I/O written without a
 * JVM, once over epoll and once over io_uring, so the two differ in the I/O interface and nothing else.
 * Not a product: no options, no logs, no metrics; a connection that fails is closed.
 */
#ifndef CFORWARD_H
#define CFORWARD_H

#include <netinet/in.h>

/* One buffer per direction, as epoll-proxy's default --buffer-size. */
#define CF_BUFFER_SIZE (32 * 1024)
#define CF_MAX_FORWARDS 8

/* Aligned: the low bits of its address tag it in epoll's data and io_uring's user_data. */
struct cf_forward {
    int listen_fd;
    struct sockaddr_in backend;
} __attribute__((aligned(16)));

/* A listening socket on 127.0.0.1:port with TCP_NODELAY (the sockets it accepts inherit it), or exits. */
int cf_listen(int port, int nonblocking);
/* A new TCP socket for the backend, TCP_NODELAY set, or -1. */
int cf_backend_socket(int nonblocking);
/* Never returns. */
void cf_die(const char *what);
/* "forward 127.0.0.1:PORT -> 127.0.0.1:BACKEND_PORT" per forward, once its I/O is set up to serve it. */
void cf_announce(const struct cf_forward *fw, int n);

int cf_run_epoll(struct cf_forward *fw, int n);
/* linked: the send and the next recv of a direction go in as one linked chain whose send posts no
 * completion when it succeeds (one completion per message and direction); otherwise each is its own. */
int cf_run_uring(struct cf_forward *fw, int n, int linked);

#endif
