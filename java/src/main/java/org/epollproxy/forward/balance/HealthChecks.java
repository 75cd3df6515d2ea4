package org.epollproxy.forward.balance;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.epollproxy.forward.ForwardingLoop;

/**
 * The active checks one loop runs. Each backend to check is checked by exactly one loop: the n-th one
 * (counting every checked backend of every forward, in order) by loop {@code n % loops}, so with
 * {@code --threads N} the checks are spread over the loops and no backend is checked N times.
 * Loop thread only.
 */
public final class HealthChecks {
    private final ForwardingLoop fl;
    private final Map<BackendState, HealthCheck> running = new IdentityHashMap<>();

    public HealthChecks(ForwardingLoop fl) {
        this.fl = fl;
    }

    /**
     * Start and reload: check this loop's share of the backends of {@code groups}. A check whose backend
     * and settings stay keeps running on its schedule; the others stop, and new ones start, spread over
     * their first interval so that a reload does not check every backend at once.
     */
    public void sync(List<BackendGroup> groups, int loopIndex, int loops) {
        Map<BackendState, BackendGroup> want = new IdentityHashMap<>();
        int n = 0;
        for (BackendGroup g : groups) {
            if (!g.forward().balancing().checks() || g.forward().proto() != org.epollproxy.forward.Forward.Proto.TCP) continue;
            for (int i = 0; i < g.size(); i++) {
                if (want.containsKey(g.state(i))) continue; // the same address twice in one forward
                if (n++ % loops == loopIndex) want.put(g.state(i), g);
            }
        }
        for (BackendState s : new ArrayList<>(running.keySet())) {
            HealthCheck c = running.get(s);
            BackendGroup g = want.get(s);
            if (g == null || !c.forward.balancing().equals(g.forward().balancing())
                    || !java.util.Objects.equals(c.forward.source(), g.forward().source())) {
                c.stop();
                running.remove(s);
            }
        }
        long now = fl.loop().now();
        int k = 0;
        for (Map.Entry<BackendState, BackendGroup> e : want.entrySet()) {
            if (running.containsKey(e.getKey())) continue;
            HealthCheck c = new HealthCheck(fl, e.getKey(), e.getValue().forward());
            running.put(e.getKey(), c);
            long spread = e.getValue().forward().balancing().checkIntervalMs() * 1_000_000L * k++ / Math.max(1, want.size());
            c.start(now + spread);
        }
    }

    /** Shutdown: every check stops, its socket closed. */
    public void stopAll() {
        for (HealthCheck c : running.values()) c.stop();
        running.clear();
    }

    /** Checks this loop runs (tests: no timer or socket left behind). */
    public int count() {
        return running.size();
    }

    /** Checks with a socket open now. */
    public int inProgress() {
        int n = 0;
        for (HealthCheck c : running.values()) if (c.running()) n++;
        return n;
    }
}
