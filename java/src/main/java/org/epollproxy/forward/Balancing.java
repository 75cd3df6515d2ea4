package org.epollproxy.forward;

import java.util.Locale;

/**
 * How a forward spreads new clients over its backends and when it stops sending them to one: immutable
 * configuration, part of the {@link Forward} (a reload that changes it changes the forward). The live
 * state (open connections, failures, up/down) is elsewhere, kept per backend address across reloads.
 *
 * @param policy which backend a new client gets
 * @param maxFails passive health: this many consecutive connect failures (refused, unreachable, timed out)
 *     mark a backend down; 0 = never. A forward with one backend is never marked down this way (the client
 *     would gain nothing: there is no other backend to send it to)
 * @param failTimeoutMs how long a backend marked down by failures is skipped before clients try it again
 * @param checkIntervalMs active health: a check of every backend each interval; 0 = no active checks
 * @param rise consecutive passed checks that bring a down backend up
 * @param fall consecutive failed checks that take an up backend down
 * @param checkSend bytes sent once a check connected (ISO-8859-1 text), or null: connect only
 * @param checkExpect the reply must start with these bytes (ISO-8859-1 text), or null: no reply awaited
 */
public record Balancing(Policy policy, int maxFails, int failTimeoutMs, int checkIntervalMs, int rise, int fall,
        String checkSend, String checkExpect) {

    /** Today's failover and the documented defaults: 3 failures skip a backend for 10 s; no checks. */
    public static final Balancing DEFAULT = new Balancing(Policy.FIRST, 3, 10_000, 0, 2, 3, null, null);

    /** Which backend a new client gets. */
    public enum Policy {
        /** The first backend that is up, in the order given (failover). */
        FIRST,
        /** Each in turn (weighted), one rotation shared by every loop. */
        ROUNDROBIN,
        /** The one with the fewest open connections of this process (every loop), relative to its weight. */
        LEASTCONN,
        /** A hash of the client's address: a client keeps its backend while the set of backends is up. */
        SOURCE;

        public String text() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The policy named {@code s}; IllegalArgumentException listing the names otherwise. */
        public static Policy parse(String s) {
            for (Policy p : values()) if (p.text().equals(s)) return p;
            throw new IllegalArgumentException("unknown balance policy \"" + s + "\" (known: first, roundrobin, leastconn, source)");
        }
    }

    public Balancing {
        if (maxFails < 0 || failTimeoutMs < 1 || checkIntervalMs < 0 || rise < 1 || fall < 1) {
            throw new IllegalArgumentException("bad balancing settings: " + this);
        }
    }

    public boolean checks() {
        return checkIntervalMs > 0;
    }

    public Balancing withPolicy(Policy p) {
        return new Balancing(p, maxFails, failTimeoutMs, checkIntervalMs, rise, fall, checkSend, checkExpect);
    }
}
