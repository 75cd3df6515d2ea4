package org.epollproxy.forward.balance;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.epollproxy.forward.Balancing;
import org.epollproxy.shim.SockAddr;

/**
 * The live state of one backend of one forward, shared by every loop and kept across reloads while the
 * forward's listening address and the backend's address stay the same (see {@link BackendPool}).
 *
 * <p>Counters are atomics, read by the stats thread and written by whichever loop used the backend. The
 * health state changes only on a failure or a check (rare) under this object's lock; the per-connection
 * path reads two volatile fields ({@link #usable}) and takes the lock only when a success follows failures.
 *
 * <p>Two ways down: {@code passive} after {@link Balancing#maxFails()} consecutive connect failures (skipped
 * until {@code retryAt}, then the next client tries it; a success brings it up, a failure skips it again),
 * {@code checked} after {@link Balancing#fall()} failed active checks ({@link Balancing#rise()} passed
 * checks bring it up, and clear a passive mark too). The methods that change the state return the one log
 * line that says so, or null; the caller logs it on its loop.
 */
public final class BackendState {
    final SockAddr address;
    /** The forward's listening address, for log lines. */
    final String forwardName;
    /** Connections assigned to the backend now (connecting or open), over every loop: leastconn's measure. */
    final AtomicInteger open = new AtomicInteger();
    final AtomicLong connects = new AtomicLong();
    final AtomicLong failures = new AtomicLong();
    final AtomicLong checks = new AtomicLong();
    final AtomicLong checkFailures = new AtomicLong();
    final AtomicLong transitions = new AtomicLong();

    private volatile int consecutiveFailures;
    private volatile boolean passiveDown;
    private volatile long retryAt;
    private volatile boolean checkedDown;
    /** Active checks: consecutive passes (> 0) or failures (< 0). */
    private int checkStreak;
    private volatile String lastFailure;
    private volatile long lastFailureMillis;
    private volatile long lastCheckMillis;
    private volatile String lastCheck;

    /** What the operator said ({@code epoll-proxy ctl}); kept across reloads with the rest of this state. */
    private volatile AdminState admin = AdminState.READY;
    /** A weight set at run time ({@code ctl weight}), or 0: the forward's weight applies. */
    private volatile int weightOverride;
    /** When the backend last became usable (enable, or up again): the start of its slow start; 0 = long ago. */
    private volatile long usableSince;
    /** The name the backend was given by, or null for an address; and when a resolution last returned it. */
    private volatile String name;
    private volatile long lastSeenMillis;

    BackendState(SockAddr address, String forwardName) {
        this.address = address;
        this.forwardName = forwardName;
    }

    public SockAddr address() {
        return address;
    }

    /** May a new client be sent here now ({@code now}: the loop's clock, System.nanoTime based)? */
    public boolean usable(long now) {
        if (checkedDown || admin != AdminState.READY) return false;
        return !passiveDown || now - retryAt >= 0;
    }

    /** Up as /metrics and /backends report it: not marked down (a passive mark counts until a success clears it). */
    public boolean up() {
        return !checkedDown && !passiveDown;
    }

    /** Open connections now, over every loop. */
    public int openConnections() {
        return open.get();
    }

    void assign() {
        open.incrementAndGet();
    }

    void release() {
        open.decrementAndGet();
    }

    /** A connect succeeded. */
    String connected() {
        connects.incrementAndGet();
        if (consecutiveFailures == 0 && !passiveDown) return null;
        synchronized (this) {
            consecutiveFailures = 0;
            if (!passiveDown) return null;
            passiveDown = false;
            transitions.incrementAndGet();
            if (checkedDown) return null;
            cameBack();
            return line("up", "a connect succeeded");
        }
    }

    /**
     * A connect failed ({@code why}: "connection refused", "connect timeout"...). With {@code single} (the
     * forward has no other backend) the failure is counted but never marks the backend down.
     */
    synchronized String connectFailed(long now, String why, Balancing b, boolean single) {
        failures.incrementAndGet();
        failed(why);
        consecutiveFailures++;
        if (b.maxFails() == 0 || single || consecutiveFailures < b.maxFails()) return null;
        retryAt = now + b.failTimeoutMs() * 1_000_000L;
        if (passiveDown) return null; // the retry after the fail timeout failed too: still down, no new line
        passiveDown = true;
        if (checkedDown) return null;
        transitions.incrementAndGet();
        return line("down", consecutiveFailures + " consecutive connect failures (last: " + why + "); skipped for "
                + seconds(b.failTimeoutMs()));
    }

    /** An active check ended: passed, or failed for {@code why}. */
    synchronized String checked(boolean ok, String why, Balancing b) {
        checks.incrementAndGet();
        lastCheckMillis = System.currentTimeMillis();
        lastCheck = ok ? "passed" : "failed: " + why;
        if (!ok) {
            checkFailures.incrementAndGet();
            failed("check: " + why);
            checkStreak = Math.min(checkStreak, 0) - 1;
            if (checkedDown || -checkStreak < b.fall()) return null;
            checkedDown = true;
            if (passiveDown) return null;
            transitions.incrementAndGet();
            return line("down", -checkStreak + " consecutive checks failed (last: " + why + ")");
        }
        checkStreak = Math.max(checkStreak, 0) + 1;
        if (!(checkedDown || passiveDown) || checkStreak < b.rise()) return null;
        checkedDown = false;
        passiveDown = false;
        consecutiveFailures = 0;
        transitions.incrementAndGet();
        cameBack();
        return line("up", checkStreak + " consecutive checks passed" + (admin == AdminState.READY ? "" : "; still " + admin.text() + " by the operator"));
    }

    /** A new address of a re-resolved name: it comes up now, and slow-starts as a backend coming back does. */
    void arrived() {
        cameBack();
    }

    /** Slow start begins now (a no-op without --slow-start: {@link #share} is then always 1). */
    private void cameBack() {
        long t = System.nanoTime();
        usableSince = t == 0 ? 1 : t;
    }

    public AdminState admin() {
        return admin;
    }

    /**
     * The operator's command: {@code to} from now on. Returns the log line, or null if nothing changed.
     * Enabling lets the health state decide again (a backend the checks hold down stays down), and a
     * backend that becomes usable starts its slow start.
     */
    public synchronized String setAdmin(AdminState to, String by) {
        AdminState from = admin;
        if (from == to) return null;
        admin = to;
        if (to == AdminState.READY && up()) cameBack();
        transitions.incrementAndGet();
        return line(to.text(), "set by " + by + " (was " + from.text() + ")" + (to == AdminState.READY && !up() ? "; still down by health" : ""));
    }

    /**
     * A backend made again for an address the operator had set (its forward's state of it was forgotten when
     * a re-resolution or a reload dropped the address): what ctl set holds again, health starts fresh.
     */
    void restore(AdminState a, int weight) {
        admin = a;
        weightOverride = weight;
    }

    /** The weight as set at run time, or 0 if the forward's applies. */
    public int weightOverride() {
        return weightOverride;
    }

    /** {@code ctl weight}: {@code w} (1-256) from now on, 0 = back to the forward's; returns the log line. */
    public String setWeight(int w, int configured, String by) {
        int old = weightOverride == 0 ? configured : weightOverride;
        weightOverride = w;
        WEIGHT_CHANGES.incrementAndGet();
        return line("weight " + (w == 0 ? configured : w), "set by " + by + " (was " + old + ")");
    }

    /** Bumped by every run-time weight change: the groups rebuild their schedules when it moves. */
    static final java.util.concurrent.atomic.AtomicInteger WEIGHT_CHANGES = new java.util.concurrent.atomic.AtomicInteger();

    /**
     * The share of its weight the backend takes now, in 1/1024ths: 1024 once {@code slowStartNanos} passed
     * since it became usable (or with no slow start), growing linearly from 1/16 of it before.
     */
    int share(long now, long slowStartNanos) {
        long since = usableSince;
        if (slowStartNanos <= 0 || since == 0) return 1024;
        long elapsed = Math.max(0, now - since); // a loop's clock is read at the top of its iteration: it may be a little behind
        if (elapsed >= slowStartNanos) {
            usableSince = 0; // done: later picks skip the arithmetic
            return 1024;
        }
        return (int) Math.max(64, elapsed * 1024 / slowStartNanos);
    }

    /** The name this backend's address came from, and the time a resolution last returned it. */
    public void seen(String host, long millis) {
        name = host;
        lastSeenMillis = millis;
    }

    private void failed(String why) {
        lastFailure = why;
        lastFailureMillis = System.currentTimeMillis();
    }

    private String line(String state, String why) {
        return "backend " + address + " of " + forwardName + " " + state + ": " + why;
    }

    private static String seconds(int ms) {
        return ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms";
    }

    /** A consistent-enough copy for /metrics and /backends (each field read once). */
    BackendInfo info(String forward, String proto, String policy, int weight, boolean checksOn, long now) {
        boolean cd = checkedDown;
        boolean pd = passiveDown;
        String downReason = cd ? "checks" : pd ? (now - retryAt >= 0 ? "failures (being retried)" : "failures") : null;
        int w = weightOverride;
        return new BackendInfo(forward, proto, policy, address.toString(), w == 0 ? weight : w, !cd && !pd, downReason, open.get(),
                connects.get(), failures.get(), checksOn, checks.get(), checkFailures.get(), transitions.get(),
                lastCheckMillis, lastCheck, lastFailureMillis, lastFailure, admin.text(), name, lastSeenMillis);
    }
}
