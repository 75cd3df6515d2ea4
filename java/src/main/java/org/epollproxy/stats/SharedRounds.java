package org.epollproxy.stats;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The snapshot rounds in flight, at most one per page: a request for a page whose round is already
 * running joins it and gets the same answer, rendered once. So 1,000 scrapes at once cost one round on
 * each forwarding loop and one rendering, not 1,000 of each, and a probe's own round (/healthz) waits
 * behind at most one task per page on each loop. The answer a joiner gets is at most one round old
 * ({@link StatsServer#LOOP_ANSWER_MS} at worst), as fresh as a scrape that came a moment earlier.
 */
final class SharedRounds {
    /** A client waiting for {@code page}; {@code readiness}: /healthz rather than /livez; {@code filter}: of /connections. */
    record Waiter(HttpConnection client, boolean head, boolean readiness, ConnectionFilter filter) {}

    private final Map<String, List<Waiter>> inFlight = new HashMap<>();

    /** Adds {@code w} to the round of {@code page}; if none runs, {@code start} starts it (and may finish it at once). */
    void join(String page, Waiter w, Runnable start) {
        List<Waiter> waiting = inFlight.get(page);
        if (waiting != null) {
            waiting.add(w);
            return;
        }
        waiting = new ArrayList<>();
        waiting.add(w);
        inFlight.put(page, waiting);
        start.run();
    }

    /** The round of {@code page} ended: its waiters, each to be answered; the next request starts a new round. */
    List<Waiter> finish(String page) {
        List<Waiter> w = inFlight.remove(page);
        return w == null ? List.of() : w;
    }

    /** A round of {@code page} is in flight: a request for it joins it, and costs no rendering of its own. */
    boolean running(String page) {
        return inFlight.containsKey(page);
    }

    /**
     * {@code filter} may join the round of {@code page}: there is none yet, it already renders that filter, or
     * it renders fewer than {@code max} distinct ones. Each distinct filter is one pass over every connection
     * on the stats loop, which probes wait behind.
     */
    boolean admits(String page, ConnectionFilter filter, int max) {
        List<Waiter> waiting = inFlight.get(page);
        if (waiting == null) return true;
        Set<ConnectionFilter> distinct = new HashSet<>();
        for (Waiter w : waiting) {
            if (w.filter().equals(filter)) return true;
            distinct.add(w.filter());
        }
        return distinct.size() < max;
    }

    /** Rounds in flight now (at most one per page). */
    int inFlight() {
        return inFlight.size();
    }
}
