package org.epollproxy.forward.balance;

import java.util.List;
import org.epollproxy.forward.Backend;
import org.epollproxy.forward.Balancing;
import org.epollproxy.shim.SockAddr;

/**
 * The balance policies: which usable, untried backend a new client gets. Lock-free: the shared state is
 * the group's ticket counter and each backend's open-connection count, both atomics, so every loop
 * follows one rotation (roundrobin does not become N rotations that bunch up) and sees every loop's
 * connections (leastconn).
 *
 * <p>Weights: roundrobin and source walk a schedule of length sum(weights) in which backend i appears
 * weight(i) times, interleaved (smooth weighted round robin: 3,1,1 gives A B A C A, not A A A B C);
 * leastconn compares open/weight.
 */
final class Policies {

    static int pick(BackendGroup g, Balancing.Policy policy, SockAddr client, long tried, long now) {
        switch (policy) {
            case ROUNDROBIN:
                return walk(g, g.ticket.getAndIncrement(), tried, now);
            case SOURCE:
                return walk(g, hash(client), tried, now);
            case LEASTCONN:
                return least(g, tried, now);
            default:
                return first(g, tried, now);
        }
    }

    private static boolean eligible(BackendGroup g, int i, long tried, long now) {
        return (tried & (1L << i)) == 0 && g.state(i).usable(now);
    }

    /**
     * Slow start: a backend that came back within --slow-start takes a growing part of the clients it
     * would get (its share in 1/1024ths): the others are passed over to the next eligible backend.
     */
    private static boolean takesItsShare(BackendGroup g, int i, long now) {
        int share = g.state(i).share(now, g.slowStartNanos);
        return share >= 1024 || java.util.concurrent.ThreadLocalRandom.current().nextInt(1024) < share;
    }

    private static int first(BackendGroup g, long tried, long now) {
        int passed = -1;
        for (int i = 0; i < g.size(); i++) {
            if (!eligible(g, i, tried, now)) continue;
            if (takesItsShare(g, i, now)) return i;
            if (passed < 0) passed = i;
        }
        return passed;
    }

    /** The first eligible backend of the schedule from position {@code start} on (one passed over by slow start if none other). */
    private static int walk(BackendGroup g, long start, long tried, long now) {
        int[] s = g.schedule();
        int from = (int) Math.floorMod(start, (long) s.length);
        int passed = -1;
        for (int k = 0; k < s.length; k++) {
            int i = s[(from + k) % s.length];
            if (!eligible(g, i, tried, now)) continue;
            if (takesItsShare(g, i, now)) return i;
            if (passed < 0) passed = i;
        }
        return passed;
    }

    /** Fewest open connections per unit of weight; ties go round (from a rotating start), not always to the first. */
    private static int least(BackendGroup g, long tried, long now) {
        int n = g.size();
        int from = (int) Math.floorMod(g.ticket.getAndIncrement(), (long) n);
        int best = -1;
        long bestOpen = 0;
        for (int k = 0; k < n; k++) {
            int i = (from + k) % n;
            if (!eligible(g, i, tried, now)) continue;
            // slow start: the backend counts as fuller than it is while its share grows
            long open = (g.state(i).openConnections() + 1) * 1024L / g.state(i).share(now, g.slowStartNanos) - 1;
            // open_i / w_i < open_best / w_best, without division
            if (best < 0 || open * g.weight(best) < bestOpen * g.weight(i)) {
                best = i;
                bestOpen = open;
            }
        }
        return best;
    }

    /** A well-mixed hash of the client's IP address (not its port): the same client, the same slot. */
    static long hash(SockAddr client) {
        String ip = client.hostText();
        long h = 0x9E3779B97F4A7C15L;
        for (int i = 0; i < ip.length(); i++) h = (h ^ ip.charAt(i)) * 0x100000001B3L;
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        return h & Long.MAX_VALUE;
    }

    /** Backend indices, backend i weight(i) times, spread evenly (smooth weighted round robin). */
    static int[] schedule(List<Backend> backends) {
        int[] w = new int[backends.size()];
        for (int i = 0; i < w.length; i++) w[i] = backends.get(i).weight();
        return schedule(w);
    }

    static int[] schedule(int[] weights) {
        int n = weights.length;
        int total = 0;
        for (int w : weights) total += w;
        int[] out = new int[total];
        long[] current = new long[n];
        for (int step = 0; step < total; step++) {
            int best = 0;
            for (int i = 0; i < n; i++) {
                current[i] += weights[i];
                if (current[i] > current[best]) best = i;
            }
            current[best] -= total;
            out[step] = best;
        }
        return out;
    }

    private Policies() {}
}
