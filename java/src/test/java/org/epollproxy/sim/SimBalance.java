package org.epollproxy.sim;

import org.epollproxy.forward.Balancing;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.ForwardStats;
import org.epollproxy.forward.balance.BackendGroup;
import org.epollproxy.forward.balance.BackendInfo;
import org.epollproxy.forward.balance.BackendPool;
import org.epollproxy.forward.balance.BackendState;

/**
 * The simulation's view of balancing and passive health: one {@link BackendPool} for the run's TCP
 * forwards (as ProxyServer shares one), and the invariants on it.
 *
 * <ul>
 *   <li>during the run (checked by SimKernel at every connect): a pair never tries a backend twice, and
 *       never one the proxy has marked down at that moment;
 *   <li>after the run: every backend's open count is back to 0, its connects and failures add up to the
 *       forwards' counters, and no timer is left but a listener's back-off.
 * </ul>
 */
final class SimBalance {
    private final Simulation sim;
    private final BackendPool pool = new BackendPool();
    private SimKernel k;

    SimBalance(Simulation sim) {
        this.sim = sim;
    }

    /** The scenario's balancing for a forward, or the forward as it is (the defaults). */
    static Forward configure(Simulation.Scenario s, Forward f) {
        return s.balancing == null ? f : f.withBalancing(s.balancing);
    }

    /** The pool the run's TCP listeners share; installs the "never to a backend marked down" check. */
    BackendPool pool(SimKernel kernel) {
        if (k == null) {
            k = kernel;
            k.markedDown = address -> {
                for (BackendGroup g : pool.groups()) {
                    for (int i = 0; i < g.size(); i++) {
                        BackendState st = g.state(i);
                        if (st.address().equals(address) && !st.usable(k.w.now)) return true;
                    }
                }
                return false;
            };
        }
        return pool;
    }

    /** After every pair ended (or the shutdown): counts add up and nothing is left behind. */
    void checkAfterRun(boolean shutdown) {
        if (k == null) return;
        long connects = 0;
        long failures = 0;
        for (BackendInfo b : pool.snapshot()) {
            if (!shutdown && b.open() != 0) {
                throw k.w.violation("backend " + b.backend() + " still counts " + b.open() + " open connection(s) after every pair ended");
            }
            connects += b.connects();
            failures += b.failures();
        }
        ForwardStats sum = sim.tcpStats();
        if (connects != sum.connected || failures != sum.connectFailures) {
            throw k.w.violation("the backends count " + connects + " connects and " + failures + " failures, the forwards "
                    + sum.connected + " and " + sum.connectFailures);
        }
        if (!shutdown && sim.scheduledTimers() > sim.listenerCount()) {
            throw k.w.violation(sim.scheduledTimers() + " timers still scheduled after every pair ended (listeners: "
                    + sim.listenerCount() + ")");
        }
    }

    /** A run's balancing with a policy and passive health settings (scenario tests). */
    static Balancing balancing(Balancing.Policy p, int maxFails, int failTimeoutMs) {
        return new Balancing(p, maxFails, failTimeoutMs, 0, 2, 3, null, null);
    }
}
