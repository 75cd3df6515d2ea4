/*
 * What cforward's two loops share (see cforward.h): the sockets they listen and connect on, set up the same
 * way for both, and the lines they print.
 */
#define _GNU_SOURCE
#include "cforward.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

void cf_die(const char *what) {
    fprintf(stderr, "cforward: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void nodelay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int cf_listen(int port, int nonblocking) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0) cf_die("socket");
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    nodelay(fd);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) cf_die("bind");
    if (listen(fd, 1024) != 0) cf_die("listen");
    return fd;
}

int cf_backend_socket(int nonblocking) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
    if (fd >= 0) nodelay(fd);
    return fd;
}

static int bound_port(int fd) {
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    if (getsockname(fd, (struct sockaddr *)&a, &len) != 0) cf_die("getsockname");
    return ntohs(a.sin_port);
}

void cf_announce(const struct cf_forward *fw, int n) {
    for (int i = 0; i < n; i++)
        printf("forward 127.0.0.1:%d -> 127.0.0.1:%d\n", bound_port(fw[i].listen_fd), ntohs(fw[i].backend.sin_port));
    fflush(stdout);
}
