package org.epollproxy.forward.balance;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.epollproxy.forward.Backend;
import org.epollproxy.forward.Balancing;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.Log;
import org.epollproxy.shim.SockAddr;

/**
 * One forward's backends at run time: the forward (immutable) and the live state of each backend, in the
 * forward's order, shared by every loop. A connection asks {@link #pick} for a backend, reports how the
 * connect went ({@link #connected}, {@link #failed}) and gives the backend back when it ends
 * ({@link #release}); the policy sees every loop's connections through the shared state.
 */
public final class BackendGroup {
    private final Forward forward;
    private final BackendState[] states;
    private volatile int[] schedule;
    /** The run-time weight changes the schedule was built after ({@link BackendState#WEIGHT_CHANGES}). */
    private volatile int scheduleFor;
    /** The pool's --slow-start, in nanoseconds (0: none). */
    final long slowStartNanos;
    /** Roundrobin's position, and leastconn's tie-breaker: one counter for every loop. */
    final AtomicLong ticket = new AtomicLong();

    BackendGroup(Forward forward, BackendState[] states, long slowStartNanos) {
        this.forward = forward;
        this.states = states;
        this.slowStartNanos = slowStartNanos;
        this.scheduleFor = BackendState.WEIGHT_CHANGES.get();
        this.schedule = Policies.schedule(weights());
    }

    public Forward forward() {
        return forward;
    }

    public int size() {
        return states.length;
    }

    public BackendState state(int i) {
        return states[i];
    }

    /** The weighted schedule, rebuilt (by whichever loop comes first) after a run-time weight change. */
    int[] schedule() {
        int v = BackendState.WEIGHT_CHANGES.get();
        if (v != scheduleFor) {
            schedule = Policies.schedule(weights());
            scheduleFor = v;
        }
        return schedule;
    }

    /** Backend {@code i}'s weight now: set at run time ({@code ctl weight}), else the forward's. */
    public int weight(int i) {
        int w = states[i].weightOverride();
        return w != 0 ? w : forward.backends().get(i).weight();
    }

    private int[] weights() {
        int[] w = new int[states.length];
        for (int i = 0; i < w.length; i++) w[i] = weight(i);
        return w;
    }

    /**
     * The backend for a client from {@code client}, skipping those in {@code tried} (bit i: backend i was
     * tried by this connection already) and those marked down; -1 if none is left.
     */
    public int pick(SockAddr client, long tried, long now) {
        return Policies.pick(this, forward.balancing().policy(), client, tried, now);
    }

    /** Backend {@code i} is given a connection (counted open until {@link #release}). */
    public void assign(int i) {
        states[i].assign();
    }

    public void release(int i) {
        states[i].release();
    }

    /** A connect to backend {@code i} succeeded; a backend coming back up is logged to {@code log}. */
    public void connected(int i, Log log) {
        String line = states[i].connected();
        if (line != null) log.info(line);
    }

    /** A connect to backend {@code i} failed for {@code why}; a backend going down is logged to {@code log}. */
    public void failed(int i, long now, String why, Log log) {
        String line = states[i].connectFailed(now, why, forward.balancing(), states.length == 1);
        if (line != null) log.info(line);
    }

    /** Every backend as /metrics and /backends show it. */
    void addInfo(List<BackendInfo> out, long now) {
        Balancing b = forward.balancing();
        for (int i = 0; i < states.length; i++) {
            Backend be = forward.backends().get(i);
            out.add(states[i].info(forward.label(), forward.proto().lower(), b.policy().text(), be.weight(),
                    b.checks(), now));
        }
    }
}
