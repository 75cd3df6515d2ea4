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
    /** At most this many dropped backends' ctl settings are remembered; the oldest are forgotten first. */
    static final int MAX_REMEMBERED = 4096;

    /** What ctl set on a backend whose state was dropped with its address. */
    private record OperatorSet(AdminState admin, int weight) {}

    /**
     * forward key + " " + backend address -> what ctl set on it, for backends no running forward has now:
     * an address that a re-resolution drops for a round (a pod not ready for a moment) and brings back is
     * still disabled or drained, with its ctl weight, not back in service behind the operator's back.
     */
    private final Map<String, OperatorSet> remembered = new java.util.LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, OperatorSet> eldest) {
            return size() > MAX_REMEMBERED;
        }
    };

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

    /**
     * Addresses a re-resolution just added, as "name address": a state made for one of them slow-starts,
     * as a backend coming up does. Set around the reconfiguration that adds them (the Reresolver's).
     */
    private java.util.Set<String> arriving = java.util.Set.of();

    public synchronized void arriving(java.util.Collection<String> nameAndAddress) {
        arriving = java.util.Set.copyOf(nameAndAddress);
    }

    /** --slow-start: groups made from now on (so every group after the start) use it. */
    public void setSlowStart(long nanos) {
        slowStartNanos = nanos;
    }

    /** Clients each route took (key: the listener's key + " route=" + route name, or " route=default"), every loop. */
    private final Map<String, java.util.concurrent.atomic.LongAdder> routed = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * The counter of clients {@code route} (a name, or {@code default}) of {@code listener} took; kept across
     * reloads while the listener and route stay. Any thread.
     */
    public java.util.concurrent.atomic.LongAdder routedCounter(Forward listener, String route) {
        return routed.computeIfAbsent(listener.key() + " route=" + route, k -> new java.util.concurrent.atomic.LongAdder());
    }

    /** Every route's count as {listener label, route, count}, for /metrics; any thread. */
    public List<String[]> routedSnapshot() {
        List<String[]> out = new ArrayList<>();
        for (Forward f : forwards()) {
            if (f.routes().isEmpty()) continue;
            for (org.epollproxy.forward.Route r : f.routes()) out.add(new String[] {f.bind().toString(), r.name(), count(f, r.name())});
            if (!f.backends().isEmpty()) out.add(new String[] {f.bind().toString(), org.epollproxy.forward.Routed.DEFAULT, count(f, "default")});
        }
        return out;
    }

    private String count(Forward f, String route) {
        java.util.concurrent.atomic.LongAdder a = routed.get(f.key() + " route=" + route);
        return Long.toString(a == null ? 0 : a.sum());
    }

    private synchronized List<Forward> forwards() {
        return new ArrayList<>(current);
    }

    /** The group of {@code f}, made on first use from the states registered for its addresses. */
    public synchronized BackendGroup group(Forward f) {
        BackendGroup g = groups.get(f);
        if (g != null) return g;
        List<Backend> bs = f.backends();
        BackendState[] s = new BackendState[bs.size()];
        for (int i = 0; i < s.length; i++) {
            SockAddr a = bs.get(i).address();
            String host = bs.get(i).host();
            s[i] = states.computeIfAbsent(f.key() + " " + a, k -> {
                BackendState made = new BackendState(a, f.label());
                OperatorSet o = remembered.remove(k);
                if (o != null) made.restore(o.admin(), o.weight());
                if (arriving.contains(host + " " + a.hostText())) made.arrived();
                return made;
            });
        }
        g = new BackendGroup(f, s, slowStartNanos);
        groups.put(f, g);
        if (f.routeName() == null && !current.contains(f) && !containsKey(f.key())) current.add(f); // used without update (tests, the simulation)
        return g;
    }

    private boolean containsKey(String key) {
        for (Forward f : current) if (f.key().equals(key)) return true;
        return false;
    }

    /**
     * Start and reload: {@code running} are the forwards from now on (as bound). Groups are made for them;
     * the state of a backend no longer in any of them is forgotten (open connections still holding it
     * finish with it), but for what ctl set on it, which a state made later for it takes again.
     */
    public synchronized void update(List<Forward> running) {
        current = new ArrayList<>(running);
        List<Forward> all = withRouteTargets(running);
        Map<Forward, BackendGroup> keep = new IdentityHashMap<>();
        for (Forward f : all) keep.put(f, group(f));
        groups.clear();
        groups.putAll(keep);
        java.util.Set<String> routeKeys = new java.util.HashSet<>();
        for (Forward f : running) {
            for (org.epollproxy.forward.Route r : f.routes()) routeKeys.add(f.key() + " route=" + r.name());
            routeKeys.add(f.key() + " route=" + org.epollproxy.forward.Routed.DEFAULT);
        }
        routed.keySet().retainAll(routeKeys);
        Map<String, BackendState> used = new HashMap<>();
        for (Forward f : all) {
            for (Backend b : f.backends()) {
                String k = f.key() + " " + b.address();
                used.put(k, states.get(k));
            }
        }
        for (Map.Entry<String, BackendState> e : states.entrySet()) {
            BackendState s = e.getValue();
            if (used.containsKey(e.getKey()) || (s.admin() == AdminState.READY && s.weightOverride() == 0)) continue;
            remembered.put(e.getKey(), new OperatorSet(s.admin(), s.weightOverride()));
        }
        states.clear();
        states.putAll(used);
    }

    /** The running forwards' groups, in order, each listener's routes' groups after its own. */
    public synchronized List<BackendGroup> groups() {
        List<BackendGroup> out = new ArrayList<>();
        for (Forward f : withRouteTargets(current)) out.add(group(f));
        return out;
    }

    /** {@code fs}, each followed by the targets of its routes (each has backends, balancing and health of its own). */
    private static List<Forward> withRouteTargets(List<Forward> fs) {
        List<Forward> out = new ArrayList<>();
        for (Forward f : fs) {
            out.add(f);
            for (org.epollproxy.forward.Route r : f.routes()) out.add(r.target());
        }
        return out;
    }

    /**
     * A resolution of {@code host} returned {@code addresses} at {@code millis}: the states of those
     * backends of every running forward and route remember the name and the time (/backends shows them).
     */
    public synchronized void seen(String host, java.util.Collection<String> addresses, long millis) {
        for (Forward f : withRouteTargets(current)) {
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
