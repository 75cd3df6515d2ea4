/*
 * A connection-rate load client in C, for bench/first-seconds.sh: unlike the Java LoadClient it has no JIT
 * of its own to warm up, so the rate it counts in the first second after a forwarder starts is the
 * forwarder's, not the client's. Each thread, in a loop: connect to 127.0.0.1:PORT, send 64 bytes, read
 * them back, compare, close; blocking sockets with a 5 s timeout, as LoadClient's cycle. It prints the
 * same lines as LoadClient, so the scripts parse either.
 *
 *   loadclient curve WARM_PORT PORT THREADS WINDOWS WARMUP
 *       WARMUP seconds of cycles against WARM_PORT (the echo backend, direct: it warms the backend, a JVM,
 *       not this client), then "warm"; then tries PORT every millisecond until a cycle succeeds (at most
 *       60 s) and counts the cycles completed in each one-second window from that first one, WINDOWS of
 *       them. With CURVE_PID_FILE naming a file that holds the forwarder's PID: its CPU (utime + stime,
 *       all threads) per completed cycle in each window.
 *       -> curve threads=T per_second=N,N,... failed=F first_ms=M [cpu_us_per_conn=C,C,...]
 *   loadclient connrate PORT THREADS SECONDS WARMUP
 *       cycles for WARMUP + SECONDS seconds, counting the last SECONDS. With CPU_PIDS (space-separated
 *       PIDs): their CPU (utime + stime + cutime + cstime) over the counted seconds.
 *       -> connrate threads=T connections_per_s=R ok=N failed=F [cpu_cores=X cpu_us_per_op=Y]
 *
 * Every run is bounded in time; exit status 2 on a usage error, 1 when the forwarder never answered.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* connect, 64 bytes there, 64 back, compare, close: 1 when all went well, 0 on any error or short reply. */
static int cycle(int port) {
    static const struct timeval timeout = {IO_TIMEOUT_S, 0};
    char req[MESSAGE_SIZE], resp[MESSAGE_SIZE];
    memset(req, 'x', sizeof req);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    int one = 1, ok = 0;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* SO_SNDTIMEO bounds connect() too on Linux */
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0) goto done;
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

/* utime + stime (+ cutime + cstime with children) of /proc/PID/stat in ticks; 0 for a vanished process. */
static long long ticks_of(long pid, int children) {
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
    if (!p) return 0;
    /* after ") ": state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17) */
    long long v[17] = {0};
    int field = 3;
    for (char *tok = strtok(p + 2, " "); tok && field <= 17; tok = strtok(NULL, " "), field++) {
        v[field - 1] = atoll(tok);
    }
    return v[13] + v[14] + (children ? v[15] + v[16] : 0);
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
    ticks[0] = pid > 0 ? ticks_of(pid, 0) : 0;
    for (int w = 1; w <= windows && pid > 0; w++) {
        sleep_ns(r.start + w * 1000000000LL - now_ns());
        ticks[w] = ticks_of(pid, 0);
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

static long long cpu_pids_ticks(const long *pids, int n) {
    long long sum = 0;
    for (int i = 0; i < n; i++) sum += ticks_of(pids[i], 1);
    return sum;
}

static int connrate(int port, int threads, double seconds, double warmup_s) {
    static struct run r;
    pthread_t ts[MAX_THREADS];
    long pids[MAX_PIDS];
    int npids = 0;
    const char *env = getenv("CPU_PIDS");
    for (char *s = env ? strdupa(env) : NULL, *tok = s ? strtok(s, " ") : NULL; tok && npids < MAX_PIDS; tok = strtok(NULL, " ")) {
        pids[npids++] = atol(tok);
    }
    r.port = port;
    r.measure_from = now_ns() + (long long)(warmup_s * 1e9);
    r.end = r.measure_from + (long long)(seconds * 1e9);
    run_threads(&r, threads, rate_thread, ts);
    sleep_ns(r.measure_from - now_ns());
    long long t0 = cpu_pids_ticks(pids, npids), n0 = now_ns();
    sleep_ns(r.end - now_ns());
    long long t1 = cpu_pids_ticks(pids, npids), n1 = now_ns();
    join_threads(ts, threads);
    long long ok = atomic_load(&r.ok), failed = atomic_load(&r.failed);
    printf("connrate threads=%d connections_per_s=%.0f ok=%lld failed=%lld", threads, ok / seconds, ok, failed);
    if (npids > 0) {
        double cpu_s = (double)(t1 - t0) / USER_HZ;
        printf(" cpu_cores=%.3f cpu_us_per_op=%.2f", cpu_s / ((n1 - n0) / 1e9),
               ok + failed ? cpu_s * 1e6 / (double)(ok + failed) : 0.0);
    }
    printf("\n");
    return 0;
}

static int usage(void) {
    fprintf(stderr, "usage: loadclient curve WARM_PORT PORT THREADS WINDOWS WARMUP | connrate PORT THREADS SECONDS WARMUP\n");
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
    return usage();
}
