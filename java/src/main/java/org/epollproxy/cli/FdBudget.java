package org.epollproxy.cli;

import java.nio.file.Path;

/**
 * Refuses at start, before binding anything, a set of forwards whose listening sockets alone would not
 * fit in the process's file descriptor limit: otherwise the bind of forward N fails with EMFILE after
 * all the others were bound (51 s of silence for 25,000 forwards, before the fix of the duplicate check).
 */
final class FdBudget {
    /** Per loop: its epoll fd and its eventfd. */
    static final int PER_LOOP = 2;
    /**
     * The JVM's own files (jars, the native library, stdio, /dev/random, ...: about 20), log files and the
     * stats socket. Kept small: the check refuses what cannot work, not what is merely tight (running out
     * of fds for connections is handled at runtime: accept pauses, logged once).
     */
    static final int BASE = 32;

    /** The soft RLIMIT_NOFILE of this process (the JVM raises it to the hard limit at start), or -1 if unknown. */
    static long limit() {
        // -1 when /proc is not Linux's: no early check, the binds will say EMFILE
        return org.epollproxy.stats.ProcessMetrics.maxFds(Path.of("/proc/self/limits"));
    }

    /** The fds {@code forwards} forwards on {@code threads} loops need before any connection. */
    static long needed(int forwards, int threads) {
        return (long) forwards * threads + (long) PER_LOOP * threads + BASE;
    }

    /** null if they fit in {@code limit} (or it is unknown), else the message to exit with. */
    static String check(int forwards, int threads, long limit) {
        long need = needed(forwards, threads);
        if (limit < 0 || need <= limit) return null;
        return forwards + " forwards on " + threads + " thread(s) need " + (long) forwards * threads
                + " listening sockets, " + need + " file descriptors with the proxy's own, before any connection, "
                + "but the limit (RLIMIT_NOFILE) is " + limit
                + ": raise it (ulimit -n, or LimitNOFILE= in the systemd unit), use fewer --threads, or forward fewer ports";
    }

    private FdBudget() {}
}
