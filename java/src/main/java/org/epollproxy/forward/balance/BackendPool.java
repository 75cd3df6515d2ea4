package org.epollproxy.forward.balance;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.epollproxy.forward.Backend;
import org.epollproxy.forward.Forward;
import org.epollproxy.shim.SockAddr;

/**
 * Every forward's {@link BackendGroup}, and the registry that keeps each backend's live state across
 * reloads: a state is keyed by the forward's key (protocol and listening address) and the backend's
 * address, so a reload that keeps both keeps the state (open connections, failures, up/down), whatever
 * else changed (weights, policy, other backends). One pool per process (ProxyServer), shared by every loop.
 */
public final class BackendPool {
    /** forward key + " " + backend address -> its state. */
    private final Map<String, BackendState> states = new HashMap<>();
    /** The group of each forward object in use (a reload makes new forward objects). */
    private final Map<Forward, BackendGroup> groups = new IdentityHashMap<>();
    /** The running forwards, in order, as the last {@link #update} gave them. */
    private List<Forward> current = new ArrayList<>();
    /** --slow-start in nanoseconds; 0 = a backend coming back takes its full share at once. */
    private volatile long slowStartNanos;

    /** The names re-resolved while running, for /metrics; replaced whole after each round. */
    private volatile List<ResolvedName> names = List.of();

    public void setNames(List<ResolvedName> n) {
        names = List.copyOf(n);
    }

    public List<ResolvedName> names() {
        return names;
    }

    /** --slow-start: groups made from now on (so every group after the start) use it. */
    public void setSlowStart(long nanos) {
        slowStartNanos = nanos;
    }

    /** The group of {@code f}, made on first use from the states registered for its addresses. */
    public synchronized BackendGroup group(Forward f) {
        BackendGroup g = groups.get(f);
        if (g != null) return g;
        List<Backend> bs = f.backends();
        BackendState[] s = new BackendState[bs.size()];
        for (int i = 0; i < s.length; i++) {
            SockAddr a = bs.get(i).address();
            s[i] = states.computeIfAbsent(f.key() + " " + a, k -> new BackendState(a, f.bind().toString()));
        }
        g = new BackendGroup(f, s, slowStartNanos);
        groups.put(f, g);
        if (!current.contains(f) && !containsKey(f.key())) current.add(f); // used without update (tests, the simulation)
        return g;
    }

    private boolean containsKey(String key) {
        for (Forward f : current) if (f.key().equals(key)) return true;
        return false;
    }

    /**
     * Start and reload: {@code running} are the forwards from now on (as bound). Groups are made for them;
     * the state of a backend no longer in any of them is forgotten (open connections still holding it
     * finish with it).
     */
    public synchronized void update(List<Forward> running) {
        current = new ArrayList<>(running);
        Map<Forward, BackendGroup> keep = new IdentityHashMap<>();
        for (Forward f : running) keep.put(f, group(f));
        groups.clear();
        groups.putAll(keep);
        Map<String, BackendState> used = new HashMap<>();
        for (Forward f : running) {
            for (Backend b : f.backends()) {
                String k = f.key() + " " + b.address();
                used.put(k, states.get(k));
            }
        }
        states.clear();
        states.putAll(used);
    }

    /** The running forwards' groups, in order. */
    public synchronized List<BackendGroup> groups() {
        List<BackendGroup> out = new ArrayList<>();
        for (Forward f : current) out.add(group(f));
        return out;
    }

    /**
     * A resolution of {@code host} returned {@code addresses} at {@code millis}: the states of those
     * backends of every running forward remember the name and the time (/backends shows them).
     */
    public synchronized void seen(String host, java.util.Collection<String> addresses, long millis) {
        for (Forward f : current) {
            BackendGroup g = group(f);
            for (int i = 0; i < g.size(); i++) {
                Backend b = f.backends().get(i);
                if (b.host().equals(host) && addresses.contains(b.address().hostText())) g.state(i).seen(host, millis);
            }
        }
    }

    /** Every backend of every running TCP forward, for /metrics and /backends; any thread. */
    public List<BackendInfo> snapshot() {
        long now = System.nanoTime();
        List<BackendInfo> out = new ArrayList<>();
        for (BackendGroup g : groups()) if (g.forward().proto() == Forward.Proto.TCP) g.addInfo(out, now);
        return out;
    }
}
