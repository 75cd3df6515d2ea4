package org.epollproxy.runtime;

import java.io.PrintStream;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.epollproxy.forward.Backend;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.Route;
import org.epollproxy.forward.balance.ResolvedName;
import org.epollproxy.shim.SockAddr;

/**
 * Backends given by name, re-resolved while the proxy runs ({@code --resolve-interval}): a forward's, and
 * those of its routes' targets. Every address of a name (A and AAAA) becomes a backend of the forward (or
 * route) with the weight the name was given; an address a round adds slow-starts (--slow-start); the forwards
 * so expanded are handed to {@link ProxyServer#reconfigure}, the same all-or-nothing path a SIGHUP
 * takes, so an address that stays keeps its live state (open connections, health, what ctl set), a new
 * one starts fresh, and one that is gone takes no new client while its open connections finish.
 *
 * <p>Lookups block, so they run on this class's own thread (and the reload thread), never on an event
 * loop. A lookup that fails or comes back empty keeps the last good set: counted, and logged once
 * when the problem begins or changes, not at every attempt.
 */
public final class Reresolver {
    /** The lookup of every address of a name (blocking). */
    public interface Lookup {
        List<InetAddress> lookup(String name) throws Exception;
    }

    /** The shortest --resolve-interval: a faster one would only load the DNS server. */
    public static final long MIN_INTERVAL_MS = 1000;

    private ProxyServer proxy;
    private final Lookup lookup;
    private final long intervalMs;
    private final PrintStream err;
    private final Map<String, Name> names = new LinkedHashMap<>();
    /** The forwards as configured (one backend per name); their expansion is what runs. */
    private List<Forward> templates = List.of();
    /** A changed set not applied yet (a reload or a takeover was in the way): the next round tries again. */
    private boolean pending;
    /**
     * The addresses rounds added ("name address") not applied yet: their backends slow-start when applied,
     * as a backend coming up does (a name's first answer, at start or reload, does not: nothing was there).
     */
    private final Set<String> arrived = new LinkedHashSet<>();
    private volatile ScheduledExecutorService thread;
    private volatile boolean stopped;

    /** What is known of one name. */
    private static final class Name {
        List<InetAddress> addresses = new ArrayList<>();
        final Map<String, Long> lastSeen = new LinkedHashMap<>();
        long failures;
        long changes;
        String problem;
    }

    public Reresolver(Lookup lookup, long intervalMs, PrintStream err) {
        this.lookup = lookup;
        this.intervalMs = Math.max(MIN_INTERVAL_MS, intervalMs);
        this.err = err;
    }

    /** A backend host that is a name to re-resolve: not an IP literal, not a UNIX path, not "localhost". */
    public static boolean isName(String host) {
        if (host == null || host.isEmpty() || host.contains("/") || host.contains(":")) return false;
        if (host.toLowerCase(Locale.ROOT).equals("localhost")) return false;
        return !host.matches("[0-9.]+");
    }

    /**
     * Before the start: resolves every name of {@code configured} (blocking) and returns the forwards with
     * every address of each name as a backend. A name whose full lookup fails keeps the one address it
     * was resolved to already. {@code known}: every address of the names the caller has just resolved (name
     * to addresses), taken as their first answer instead of asking again: one query per name at start.
     */
    public synchronized List<Forward> expandAtStart(List<Forward> configured, Map<String, List<InetAddress>> known) {
        templates = List.copyOf(configured);
        learn(configured, known);
        return expand();
    }

    /** After {@code p} started with the expanded forwards: re-resolves every interval, on a thread of its own. */
    public synchronized void start(ProxyServer p) {
        proxy = p;
        publish();
        scheduleWhenNamed();
    }

    /**
     * The thread, from the first name on: a proxy whose backends are all addresses (the common plain
     * forward) starts none, which saves its stack and the executor's classes in idle RSS; a reload that
     * brings a name starts it then.
     */
    private void scheduleWhenNamed() {
        if (thread != null || stopped || proxy == null || names.isEmpty()) return;
        thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "epoll-proxy-resolve");
            t.setDaemon(true);
            return t;
        });
        thread.scheduleWithFixedDelay(() -> {
            try {
                round();
            } catch (RuntimeException e) { // an exception would end the schedule: say it, and go on next round
                say("a round failed: " + e);
            }
        }, intervalMs, intervalMs, TimeUnit.MILLISECONDS);
        if (stopped) thread.shutdownNow(); // stop() came between the check above and the thread
    }

    /** Whether the re-resolving thread runs (for tests). */
    boolean scheduling() {
        return thread != null;
    }

    /** Not under the lock: a round may hold it while the proxy it applies to is stopping. */
    public void stop() {
        stopped = true;
        ScheduledExecutorService t = thread;
        if (t != null) t.shutdownNow();
    }

    /**
     * SIGHUP: {@code desired} (as configured) becomes the running set, expanded; new names are resolved first.
     * {@code known}: the answers the reload has just got for its names (see {@link #expandAtStart}).
     * It waits for no DNS round: a round looks names up without the lock, and takes it only to apply.
     */
    public synchronized String reconfigure(List<Forward> desired, Map<String, List<InetAddress>> known) throws InterruptedException {
        List<Forward> running = templates;
        templates = List.copyOf(desired);
        learn(desired, known);
        String summary;
        try {
            summary = applyExpanded();
        } catch (RuntimeException | InterruptedException e) {
            templates = running; // the reload is refused: the next round must not apply it behind the operator's back
            throw e;
        }
        names.keySet().retainAll(namesOf(desired));
        pending = false;
        publish();
        scheduleWhenNamed();
        return summary;
    }

    /**
     * One round: every name looked up again; the forwards change if any set of addresses did. The lookups
     * (seconds each when the DNS server is silent) run without the lock, so a SIGHUP reload never waits
     * behind them; the answers are applied under it, to the names still configured then.
     */
    void round() {
        List<String> hosts;
        synchronized (this) {
            hosts = new ArrayList<>(names.keySet());
        }
        Map<String, Answer> answers = new LinkedHashMap<>();
        for (String h : hosts) answers.put(h, ask(h));
        synchronized (this) {
            apply(answers);
        }
    }

    /** The answers of one round, under the lock. */
    private void apply(Map<String, Answer> answers) {
        boolean changed = pending;
        for (Map.Entry<String, Answer> e : answers.entrySet()) {
            Name n = names.get(e.getKey());
            if (n != null) changed |= take(e.getKey(), n, e.getValue(), true); // null: a reload dropped the name meanwhile
        }
        if (changed) {
            try {
                String summary = applyExpanded();
                pending = false;
                say("backends updated: " + summary);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                if (!pending) say("the new addresses are not applied yet (" + e.getMessage() + "); trying again next round");
                pending = true;
            }
        }
        publish();
    }

    /** One lookup's outcome: the addresses, or (problem not null) why there are none. */
    private record Answer(List<InetAddress> got, String problem) {}

    /** Looks {@code host} up (blocking; no lock needed). */
    private Answer ask(String host) {
        try {
            List<InetAddress> got = lookup.lookup(host);
            return new Answer(got, got.isEmpty() ? "the answer has no address" : null);
        } catch (Exception e) {
            return new Answer(List.of(), e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    /** The expanded templates to the proxy; the backends of the addresses rounds added slow-start. */
    private String applyExpanded() throws InterruptedException {
        proxy.backendPool().arriving(arrived);
        try {
            String summary = proxy.reconfigure(expand());
            arrived.clear();
            return summary;
        } finally {
            proxy.backendPool().arriving(Set.of());
        }
    }

    /** {@code answer}, for {@code host}, becomes what is known of it; true if its set of addresses changed.
     *  {@code byRound}: a re-resolution, whose new addresses slow-start (not a name's first answer). */
    private boolean take(String host, Name n, Answer answer, boolean byRound) {
        List<InetAddress> got = answer.got();
        String problem = answer.problem();
        if (problem != null) {
            n.failures++;
            if (!problem.equals(n.problem)) say(host + ": " + problem + "; keeping its " + n.addresses.size() + " address(es) " + text(n.addresses));
            n.problem = problem;
            return false;
        }
        if (n.problem != null) say(host + ": resolves again");
        n.problem = null;
        long now = System.currentTimeMillis();
        for (InetAddress a : got) n.lastSeen.put(key(a), now);
        List<InetAddress> merged = new ArrayList<>();
        for (InetAddress a : n.addresses) if (got.contains(a)) merged.add(a); // the ones that stay keep their place
        for (InetAddress a : got) if (!merged.contains(a)) merged.add(a);
        if (merged.equals(n.addresses)) return false;
        say(host + ": " + text(merged) + " (was " + text(n.addresses) + ")");
        if (byRound) for (InetAddress a : merged) if (!n.addresses.contains(a)) arrived.add(host + " " + key(a));
        n.addresses = merged;
        n.lastSeen.keySet().retainAll(textSet(merged));
        n.changes++;
        return true;
    }

    /** Resolves the names of {@code forwards} not known yet ({@code known}: the answers the caller just got). */
    private void learn(List<Forward> forwards, Map<String, List<InetAddress>> known) {
        for (Backend b : backendsOf(forwards)) {
            if (!isName(b.host()) || names.containsKey(b.host())) continue;
            Name n = new Name();
            n.addresses.add(addressOf(b.address()));
            names.put(b.host(), n);
            List<InetAddress> got = known.get(b.host());
            take(b.host(), n, got != null && !got.isEmpty() ? new Answer(got, null) : ask(b.host()), false);
        }
    }

    /** The backends of {@code forwards} and of their routes' targets (a route's backends are re-resolved too). */
    private static List<Backend> backendsOf(List<Forward> forwards) {
        List<Backend> out = new ArrayList<>();
        for (Forward f : forwards) {
            out.addAll(f.backends());
            for (Route r : f.routes()) out.addAll(r.target().backends());
        }
        return out;
    }

    private static Set<String> namesOf(List<Forward> forwards) {
        Set<String> out = new LinkedHashSet<>();
        for (Backend b : backendsOf(forwards)) if (isName(b.host())) out.add(b.host());
        return out;
    }

    /** The templates with each name replaced by one backend per address, in the forwards and their routes. */
    private List<Forward> expand() {
        List<Forward> out = new ArrayList<>();
        for (Forward f : templates) {
            Forward g = expand(f);
            if (!f.routes().isEmpty()) {
                List<Route> rs = new ArrayList<>();
                boolean any = false;
                for (Route r : f.routes()) {
                    Forward t = expand(r.target());
                    any |= t != r.target();
                    rs.add(t == r.target() ? r : new Route(r.name(), t));
                }
                if (any) g = g.withRoutes(rs, f.preread());
            }
            out.add(g);
        }
        return out;
    }

    /** {@code f} with each name replaced by one backend per address (at most Forward.MAX_BACKENDS); f itself if it has no name. */
    private Forward expand(Forward f) {
        List<Backend> bs = new ArrayList<>();
        boolean any = false;
        for (Backend b : f.backends()) {
            Name n = isName(b.host()) ? names.get(b.host()) : null;
            if (n == null) {
                bs.add(b);
                continue;
            }
            any = true;
            for (InetAddress a : n.addresses) bs.add(new Backend(b.host(), SockAddr.of(a, b.address().port()), b.weight()));
        }
        if (!any) return f;
        if (bs.size() > Forward.MAX_BACKENDS) {
            say(f.origin() + ": " + bs.size() + " addresses; the first " + Forward.MAX_BACKENDS + " are used");
            bs = bs.subList(0, Forward.MAX_BACKENDS);
        }
        return f.withBackends(bs);
    }

    /** The names' state to /metrics, and each address's last sighting to /backends. */
    private void publish() {
        List<ResolvedName> out = new ArrayList<>();
        for (Map.Entry<String, Name> e : names.entrySet()) {
            Name n = e.getValue();
            out.add(new ResolvedName(e.getKey(), n.addresses.size(), n.failures, n.changes, n.problem));
            for (Map.Entry<String, Long> s : n.lastSeen.entrySet()) proxy.backendPool().seen(e.getKey(), Set.of(s.getKey()), s.getValue());
        }
        proxy.backendPool().setNames(out);
    }

    private static InetAddress addressOf(SockAddr a) {
        try {
            return InetAddress.getByName(a.hostText()); // an IP literal: nothing is looked up
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String text(List<InetAddress> as) {
        List<String> t = new ArrayList<>();
        for (InetAddress a : as) t.add(a.getHostAddress());
        return "[" + String.join(", ", t) + "]";
    }

    private static Set<String> textSet(List<InetAddress> as) {
        Set<String> t = new LinkedHashSet<>();
        for (InetAddress a : as) t.add(key(a));
        return t;
    }

    /** The address as a backend's SockAddr writes it ("::1", not "0:0:0:0:0:0:0:1"). */
    private static String key(InetAddress a) {
        return SockAddr.of(a, 0).hostText();
    }

    private void say(String msg) {
        err.println(org.epollproxy.forward.LogTime.now() + " resolve: " + msg);
        err.flush();
    }
}
