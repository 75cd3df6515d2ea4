/*
 * The load client of the benchmark scripts in C (bench/compare.sh, first-seconds.sh, syscalls.sh, ...):
 * unlike the Java LoadClient it has no JIT of its own to warm up and takes little CPU from the forwarder
 * it measures on two shared cores, so the rates it counts (in the first second after a forwarder starts
 * as much as warmed up) are the forwarder's, not the client's. It prints the same lines as LoadClient,
 * with the same key=value fields, so the scripts parse either.
 *
 * A cycle (curve, connrate): connect to 127.0.0.1:PORT, send 64 bytes, read them back, compare, close;
 * blocking sockets with a 5 s timeout, as LoadClient's cycle, one thread per concurrent cycle.
 *
 *   loadclient curve WARM_PORT PORT THREADS WINDOWS WARMUP
 *       WARMUP seconds of cycles against WARM_PORT (the echo backend, direct: it warms the backend, a
 *       Java one's JIT, not this client), then "warm"; then tries PORT every millisecond until a cycle
 *       succeeds (at most 60 s) and counts the cycles completed in each one-second window from that
 *       first one, WINDOWS of them. With CURVE_PID_FILE naming a file that holds the forwarder's PID: its CPU (utime + stime,
 *       all threads) per completed cycle in each window.
 *       -> curve threads=T per_second=N,N,... failed=F first_ms=M [cpu_us_per_conn=C,C,...]
 *   loadclient connrate PORT THREADS SECONDS WARMUP
 *       cycles for WARMUP + SECONDS seconds, counting the last SECONDS. With CPU_PIDS (space-separated
 *       PIDs): their CPU (utime + stime + cutime + cstime) over the counted seconds.
 *       -> connrate threads=T connections_per_s=R ok=N failed=F [cpu_cores=X cpu_us_per_op=Y
 *          cpu_user_us_per_op=U cpu_sys_us_per_op=S]
 *   loadclient pingpong PORT CONNECTIONS SECONDS WARMUP
 *       opens CONNECTIONS connections, each a closed loop of 64-byte requests echoed back (the next one
 *       sent when the reply is whole and equal), all served by one thread's epoll set. Counts the round
 *       trips whose request left after WARMUP seconds and that came back before WARMUP + SECONDS, and
 *       their latencies to the microsecond (the send time is that of the epoll_wait return that sent it,
 *       as LoadClient). CPU_PIDS as connrate, per round trip.
 *       -> pingpong conns=C round_trips_per_s=R p50_us=L p99_us=L errors=E [cpu_cores=X cpu_us_per_op=Y
 *          cpu_user_us_per_op=U cpu_sys_us_per_op=S]
 *
 * CPU: user is utime + cutime (the forwarder's own code), system stime + cstime (the kernel's work on its
 * behalf: the TCP stack, epoll), over the counted seconds, as the Java client's fields.
 *
 * Every run is bounded in time; exit status 2 on a usage error, 1 when the forwarder never answered.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MESSAGE_SIZE 64
#define IO_TIMEOUT_S 5
#define MAX_THREADS 256
#define MAX_WINDOWS 600
#define MAX_PIDS 16
#define FIRST_ANSWER_WAIT_S 60
#define MAX_CONNECTIONS 10000
#define LATENCY_BUCKETS 1000000 /* one per microsecond, to 1 s; a slower round trip counts in the last */
#define USER_HZ 100 /* the unit of /proc/PID/stat times on every Linux ABI the project builds for */

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ns(long long ns) {
    if (ns <= 0) return;
    struct timespec ts = {(time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* A blocking socket connected to 127.0.0.1:port, Nagle off, reads and writes bounded by IO_TIMEOUT_S; -1. */
static int connect_to(int port) {
    static const struct timeval timeout = {IO_TIMEOUT_S, 0};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* SO_SNDTIMEO bounds connect() too on Linux */
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&to, sizeof to) == 0) return fd;
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}

/* connect, 64 bytes there, 64 back, compare, close: 1 when all went well, 0 on any error or short reply. */
static int cycle(int port) {
    char req[MESSAGE_SIZE], resp[MESSAGE_SIZE];
    memset(req, 'x', sizeof req);
    int fd = connect_to(port), ok = 0;
    if (fd < 0) return 0;
    for (size_t sent = 0; sent < sizeof req;) {
        ssize_t n = write(fd, req + sent, sizeof req - sent);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) goto done;
        sent += (size_t)n;
    }
    for (size_t got = 0; got < sizeof resp;) {
        ssize_t n = read(fd, resp + got, sizeof resp - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) goto done;
        got += (size_t)n;
    }
    ok = memcmp(req, resp, sizeof req) == 0;
done:
    close(fd);
    return ok;
}

/* CPU in ticks: user is utime (+ cutime with children), sys stime (+ cstime) of /proc/PID/stat. */
struct cpu {
    long long user, sys;
};

/* The CPU of one process; 0 for a vanished one. */
static struct cpu cpu_of(long pid, int children) {
    struct cpu none = {0, 0};
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return none;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
    if (!p) return none;
    /* after ") ": state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17) */
    long long v[17] = {0};
    int field = 3;
    for (char *tok = strtok(p + 2, " "); tok && field <= 17; tok = strtok(NULL, " "), field++) {
        v[field - 1] = atoll(tok);
    }
    struct cpu c = {v[13] + (children ? v[15] : 0), v[14] + (children ? v[16] : 0)};
    return c;
}

static long long ticks_of(long pid) {
    struct cpu c = cpu_of(pid, 0);
    return c.user + c.sys;
}

/* The forwarder's PID from the file CURVE_PID_FILE names (written as it is started; waits up to 1 s), or 0. */
static long forwarder_pid(void) {
    const char *file = getenv("CURVE_PID_FILE");
    if (!file || !*file) return 0;
    for (int i = 0; i < 100; i++) {
        FILE *f = fopen(file, "r");
        long pid = 0;
        if (f) {
            if (fscanf(f, "%ld", &pid) != 1) pid = 0;
            fclose(f);
        }
        if (pid > 0) return pid;
        sleep_ns(10000000LL);
    }
    return 0;
}

struct run {
    int port;
    long long measure_from, start, end; /* ns, CLOCK_MONOTONIC */
    int windows;                         /* curve: count per one-second window from start */
    atomic_llong ok, failed;
    atomic_llong done[MAX_WINDOWS];
};

/* curve: cycles until end, each success counted in the window it completed in. */
static void *curve_thread(void *arg) {
    struct run *r = arg;
    while (now_ns() < r->end) {
        int good = cycle(r->port);
        long long w = (now_ns() - r->start) / 1000000000LL;
        if (!good) atomic_fetch_add(&r->failed, 1);
        else if (w >= 0 && w < r->windows) atomic_fetch_add(&r->done[w], 1);
    }
    return NULL;
}

/* connrate and the warm-up: cycles until end, counted from measure_from on. */
static void *rate_thread(void *arg) {
    struct run *r = arg;
    long long now;
    while ((now = now_ns()) < r->end) {
        int good = cycle(r->port);
        if (now >= r->measure_from) atomic_fetch_add(good ? &r->ok : &r->failed, 1);
    }
    return NULL;
}

static int run_threads(struct run *r, int threads, void *(*body)(void *), pthread_t *ts) {
    for (int t = 0; t < threads; t++) {
        if (pthread_create(&ts[t], NULL, body, r) != 0) {
            fprintf(stderr, "loadclient: cannot start thread %d\n", t);
            exit(1);
        }
    }
    return threads;
}

static void join_threads(pthread_t *ts, int threads) {
    for (int t = 0; t < threads; t++) pthread_join(ts[t], NULL);
}

static int curve(int warm_port, int port, int threads, int windows, double warmup_s) {
    static struct run warm, r;
    pthread_t ts[MAX_THREADS];
    warm.port = warm_port;
    warm.measure_from = warm.end = now_ns() + (long long)(warmup_s * 1e9);
    join_threads(ts, run_threads(&warm, threads, rate_thread, ts));
    printf("warm\n");
    fflush(stdout);
    long long warm_printed = now_ns();
    while (!cycle(port)) { /* the forwarder is not listening yet */
        if (now_ns() - warm_printed > FIRST_ANSWER_WAIT_S * 1000000000LL) {
            fprintf(stderr, "loadclient: nothing answered on port %d in %d s\n", port, FIRST_ANSWER_WAIT_S);
            return 1;
        }
        sleep_ns(1000000LL);
    }
    r.port = port;
    r.windows = windows;
    r.start = now_ns();
    r.end = r.start + windows * 1000000000LL;
    run_threads(&r, threads, curve_thread, ts);
    /* The forwarder's CPU (all its threads, the JIT's included) at each window's edge. */
    long pid = forwarder_pid();
    long long ticks[MAX_WINDOWS + 1];
    ticks[0] = pid > 0 ? ticks_of(pid) : 0;
    for (int w = 1; w <= windows && pid > 0; w++) {
        sleep_ns(r.start + w * 1000000000LL - now_ns());
        ticks[w] = ticks_of(pid);
    }
    join_threads(ts, threads);
    printf("curve threads=%d per_second=", threads);
    for (int w = 0; w < windows; w++) printf("%s%lld", w ? "," : "", (long long)atomic_load(&r.done[w]));
    printf(" failed=%lld first_ms=%lld", (long long)atomic_load(&r.failed), (r.start - warm_printed) / 1000000LL);
    if (pid > 0) {
        printf(" cpu_us_per_conn=");
        for (int w = 0; w < windows; w++) {
            long long n = atomic_load(&r.done[w]);
            if (n == 0) printf("%s-", w ? "," : "");
            else printf("%s%.1f", w ? "," : "", (double)(ticks[w + 1] - ticks[w]) * 1e6 / USER_HZ / (double)n);
        }
    }
    printf("\n");
    return 0;
}

/* The PIDs CPU_PIDS names (space-separated, at most MAX_PIDS), into pids; their number. */
static int cpu_pids(long *pids) {
    int n = 0;
    const char *env = getenv("CPU_PIDS");
    for (char *s = env ? strdupa(env) : NULL, *tok = s ? strtok(s, " ") : NULL; tok && n < MAX_PIDS; tok = strtok(NULL, " ")) {
        pids[n++] = atol(tok);
    }
    return n;
}

/* The summed CPU of the processes and their reaped children (socat's per-connection processes). */
static struct cpu cpu_sum(const long *pids, int n) {
    struct cpu sum = {0, 0};
    for (int i = 0; i < n; i++) {
        struct cpu c = cpu_of(pids[i], 1);
        sum.user += c.user;
        sum.sys += c.sys;
    }
    return sum;
}

/* " cpu_cores=X cpu_us_per_op=Y cpu_user_us_per_op=U cpu_sys_us_per_op=S" between two readings wall_ns
 * apart in which ops operations completed; NaN per operation when none did, as the Java client. */
static void print_cpu(struct cpu a, struct cpu b, long long wall_ns, long long ops) {
    double user = (double)(b.user - a.user) / USER_HZ, sys = (double)(b.sys - a.sys) / USER_HZ;
    printf(" cpu_cores=%.3f", (user + sys) / (wall_ns / 1e9));
    if (ops == 0) printf(" cpu_us_per_op=NaN cpu_user_us_per_op=NaN cpu_sys_us_per_op=NaN");
    else printf(" cpu_us_per_op=%.2f cpu_user_us_per_op=%.2f cpu_sys_us_per_op=%.2f", (user + sys) * 1e6 / (double)ops,
                user * 1e6 / (double)ops, sys * 1e6 / (double)ops);
}

static int connrate(int port, int threads, double seconds, double warmup_s) {
    static struct run r;
    pthread_t ts[MAX_THREADS];
    long pids[MAX_PIDS];
    int npids = cpu_pids(pids);
    r.port = port;
    r.measure_from = now_ns() + (long long)(warmup_s * 1e9);
    r.end = r.measure_from + (long long)(seconds * 1e9);
    run_threads(&r, threads, rate_thread, ts);
    sleep_ns(r.measure_from - now_ns());
    struct cpu c0 = cpu_sum(pids, npids);
    long long n0 = now_ns();
    sleep_ns(r.end - now_ns());
    struct cpu c1 = cpu_sum(pids, npids);
    long long n1 = now_ns();
    join_threads(ts, threads);
    long long ok = atomic_load(&r.ok), failed = atomic_load(&r.failed);
    printf("connrate threads=%d connections_per_s=%.0f ok=%lld failed=%lld", threads, ok / seconds, ok, failed);
    if (npids > 0) print_cpu(c0, c1, n1 - n0, ok + failed);
    printf("\n");
    return 0;
}

/* pingpong: one connection's closed loop. */
struct pp {
    int fd; /* -1 once dropped */
    int got; /* bytes of the reply read so far */
    long long sent_at;
    char resp[MESSAGE_SIZE];
};

static char pp_request[MESSAGE_SIZE];
static long long latency_count[LATENCY_BUCKETS]; /* round trips per microsecond of latency */

/* The next request; 0, or -1 when the socket did not take all 64 bytes (it is empty: an error). */
static int pp_send(struct pp *c, long long now) {
    ssize_t n = send(c->fd, pp_request, sizeof pp_request, MSG_NOSIGNAL);
    c->sent_at = now;
    return n == (ssize_t)sizeof pp_request ? 0 : -1;
}

static void pp_drop(struct pp *c) {
    close(c->fd);
    c->fd = -1;
}

/* The latency, in microseconds, that a fraction p of the counted round trips did not exceed (as LoadClient:
 * the element at index p * n of the sorted list). */
static double percentile_us(long long counted, double p) {
    long long k = (long long)(p * (double)counted), seen = 0;
    if (k >= counted) k = counted - 1;
    for (int us = 0; us < LATENCY_BUCKETS; us++) {
        seen += latency_count[us];
        if (seen > k) return us;
    }
    return LATENCY_BUCKETS - 1;
}

static int pingpong(int port, int conns, double seconds, double warmup_s) {
    long pids[MAX_PIDS];
    int npids = cpu_pids(pids);
    for (int i = 0; i < MESSAGE_SIZE; i++) pp_request[i] = (char)(i * 31 + 7);
    struct pp *cs = calloc((size_t)conns, sizeof *cs);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (!cs || ep < 0) {
        fprintf(stderr, "loadclient: out of memory or descriptors for %d connections\n", conns);
        return 1;
    }
    for (int i = 0; i < conns; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &cs[i]};
        cs[i].fd = connect_to(port);
        if (cs[i].fd < 0 || fcntl(cs[i].fd, F_SETFL, O_NONBLOCK) != 0 || epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev) != 0) {
            fprintf(stderr, "loadclient: connection %d to 127.0.0.1:%d: %s\n", i + 1, port, strerror(errno));
            return 1;
        }
    }
    long long start = now_ns(), measure_from = start + (long long)(warmup_s * 1e9);
    long long end = measure_from + (long long)(seconds * 1e9), now = start, counted = 0, errors = 0;
    for (int i = 0; i < conns; i++) {
        if (pp_send(&cs[i], start) != 0) errors++, pp_drop(&cs[i]);
    }
    int measuring = 0;
    struct cpu c0 = {0, 0};
    long long n0 = 0;
    struct epoll_event evs[256];
    while (now < end) {
        long long left_ms = (end - now) / 1000000LL + 1;
        int n = epoll_wait(ep, evs, 256, left_ms < 100 ? (int)left_ms : 100);
        now = now_ns();
        if (!measuring && now >= measure_from) {
            measuring = 1;
            c0 = cpu_sum(pids, npids);
            n0 = now;
        }
        for (int i = 0; i < n; i++) {
            struct pp *c = evs[i].data.ptr;
            ssize_t r = read(c->fd, c->resp + c->got, (size_t)(MESSAGE_SIZE - c->got));
            if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (r <= 0) { /* the forwarder closed or reset it: an error, and the connection is gone */
                errors++, pp_drop(c);
                continue;
            }
            c->got += (int)r;
            if (c->got < MESSAGE_SIZE) continue;
            c->got = 0;
            if (memcmp(c->resp, pp_request, MESSAGE_SIZE) != 0) {
                errors++, pp_drop(c);
                continue;
            }
            if (c->sent_at >= measure_from && now < end) {
                long long us = (now - c->sent_at) / 1000;
                latency_count[us < LATENCY_BUCKETS ? us : LATENCY_BUCKETS - 1]++;
                counted++;
            }
            if (pp_send(c, now) != 0) errors++, pp_drop(c);
        }
    }
    struct cpu c1 = cpu_sum(pids, npids);
    long long n1 = now_ns();
    for (int i = 0; i < conns; i++) {
        if (cs[i].fd >= 0) close(cs[i].fd);
    }
    close(ep);
    free(cs);
    printf("pingpong conns=%d round_trips_per_s=%.0f", conns, counted / seconds);
    if (counted == 0) printf(" p50_us=NaN p99_us=NaN");
    else printf(" p50_us=%.1f p99_us=%.1f", percentile_us(counted, 0.50), percentile_us(counted, 0.99));
    printf(" errors=%lld", errors);
    if (npids > 0 && measuring) print_cpu(c0, c1, n1 - n0, counted);
    printf("\n");
    return 0;
}

static int usage(void) {
    fprintf(stderr, "usage: loadclient curve WARM_PORT PORT THREADS WINDOWS WARMUP | connrate PORT THREADS SECONDS WARMUP"
                    " | pingpong PORT CONNECTIONS SECONDS WARMUP\n");
    return 2;
}

static int parse_port(const char *s) {
    char *end;
    long v = strtol(s, &end, 10);
    return *end == '\0' && v > 0 && v < 65536 ? (int)v : -1;
}

static int parse_count(const char *s, int max) {
    char *end;
    double v = strtod(s, &end); /* "8" or "8.0": the scripts pass either */
    return *end == '\0' && v >= 1 && v <= max ? (int)v : -1;
}

static double parse_seconds(const char *s) {
    char *end;
    double v = strtod(s, &end);
    return *end == '\0' && v >= 0 && v <= 3600 ? v : -1;
}

int main(int argc, char **argv) {
    if (argc == 7 && strcmp(argv[1], "curve") == 0) {
        int warm_port = parse_port(argv[2]), port = parse_port(argv[3]);
        int threads = parse_count(argv[4], MAX_THREADS), windows = parse_count(argv[5], MAX_WINDOWS);
        double warmup = parse_seconds(argv[6]);
        if (warm_port < 0 || port < 0 || threads < 0 || windows < 0 || warmup < 0) return usage();
        return curve(warm_port, port, threads, windows, warmup);
    }
    if (argc == 6 && strcmp(argv[1], "connrate") == 0) {
        int port = parse_port(argv[2]), threads = parse_count(argv[3], MAX_THREADS);
        double seconds = parse_seconds(argv[4]), warmup = parse_seconds(argv[5]);
        if (port < 0 || threads < 0 || seconds <= 0 || warmup < 0) return usage();
        return connrate(port, threads, seconds, warmup);
    }
    if (argc == 6 && strcmp(argv[1], "pingpong") == 0) {
        int port = parse_port(argv[2]), conns = parse_count(argv[3], MAX_CONNECTIONS);
        double seconds = parse_seconds(argv[4]), warmup = parse_seconds(argv[5]);
        if (port < 0 || conns < 0 || seconds <= 0 || warmup < 0) return usage();
        return pingpong(port, conns, seconds, warmup);
    }
    return usage();
}
