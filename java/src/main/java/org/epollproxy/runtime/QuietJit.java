package org.epollproxy.runtime;

import java.util.concurrent.TimeUnit;

/**
 * When a {@code --warmup auto} is over: once the JIT's compiler threads have used no CPU for
 * {@link #QUIET_MILLIS} while warm-up connections kept completing (at least {@link #MIN_CONNECTIONS} of
 * them), the code those connections run is
 * compiled as far as their traffic makes the JIT compile it. The warm-up asks {@link #over} every few
 * tens of milliseconds with the time, the compiler threads' CPU ({@link CompilerCpu}) and the connections
 * done. Bounded: never longer than {@link #CAP_MILLIS}; when the compiler's CPU cannot be read, a fixed
 * {@link #BLIND_MILLIS}. Times are arguments, so a test steps a clock of its own.
 */
final class QuietJit {
    /** A quiet spell this long ends it: longer than a compile of one method, shorter than a start is worth. */
    static final long QUIET_MILLIS = 200;
    /**
     * A quiet spell counts only once a round has made this many connections: a method run once per
     * connection goes from the profiling tier to C2 after HotSpot's Tier4InvocationThreshold (5000) calls,
     * and waits silently in between, so a quiet JIT before them is only a pause.
     */
    static final int MIN_CONNECTIONS = 6000;
    /** Never longer than this, however busy the JIT or the machine. */
    static final long CAP_MILLIS = 10_000;
    /** How a warm-up that reached its cap ended, for the log line. */
    static final String AT_CAP = "at its cap, the JIT still compiling";
    /** Without a reading of the compiler's CPU: as long as the fixed warm-up a JIT mostly needs. */
    static final long BLIND_MILLIS = 1_000;

    private final long started;
    private long lastTicks = Long.MIN_VALUE;
    private long busyAt;
    private String why = "";
    private boolean capped;

    QuietJit(long startedNanos) {
        this.started = startedNanos;
        this.busyAt = startedNanos;
    }

    /** A new round of the warm-up (a new private forward) starts at {@code nowNanos}: quiet counts afresh. */
    void newRound(long nowNanos) {
        busyAt = nowNanos;
        lastTicks = Long.MIN_VALUE;
    }

    /** Whether the last {@link #over} ended it at the cap: no further round then. */
    boolean capped() {
        return capped;
    }

    /**
     * Whether the warm-up is over at {@code nowNanos}, with the compiler threads' CPU ({@link CompilerCpu#UNKNOWN}
     * when unreadable) and the warm-up's completed connections so far.
     */
    boolean over(long nowNanos, long compilerTicks, int connections) {
        long elapsed = TimeUnit.NANOSECONDS.toMillis(nowNanos - started);
        if (elapsed >= CAP_MILLIS) {
            why = AT_CAP;
            capped = true;
            return true;
        }
        if (compilerTicks == CompilerCpu.UNKNOWN) {
            why = "the JIT's threads not readable: a fixed time";
            return elapsed >= BLIND_MILLIS && connections > 0;
        }
        // Quiet counts from the round's MIN_CONNECTIONS-th connection on: before, it is a pause between tiers.
        if (compilerTicks != lastTicks || connections < MIN_CONNECTIONS) busyAt = nowNanos;
        lastTicks = compilerTicks;
        why = "until the JIT was quiet for " + QUIET_MILLIS + " ms";
        return TimeUnit.NANOSECONDS.toMillis(nowNanos - busyAt) >= QUIET_MILLIS;
    }

    /** Why it ended, for the log line: once {@link #over} said true. */
    String why() {
        return why;
    }
}
