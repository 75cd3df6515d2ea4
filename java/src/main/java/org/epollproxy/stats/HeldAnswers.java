package org.epollproxy.stats;

import java.util.IdentityHashMap;

/**
 * The large answers being written to clients, on the stats loop: each body counted once however many clients
 * share it (one rendering serves every client of a round), until the last of them has handed it all to the
 * kernel or closed. What the server weighs against {@link StatsLimits#MAX_HELD_BYTES}.
 */
final class HeldAnswers {
    /** Each body held, by identity, with how many clients hold it. */
    private final IdentityHashMap<byte[], int[]> holders = new IdentityHashMap<>();
    private long bytes;

    /** A client starts writing {@code body}. */
    void hold(byte[] body) {
        int[] n = holders.get(body);
        if (n == null) {
            holders.put(body, n = new int[1]);
            bytes += body.length;
        }
        n[0]++;
    }

    /** A client is done with {@code body}: all sent, or closed. */
    void drop(byte[] body) {
        int[] n = holders.get(body);
        if (n != null && --n[0] == 0) {
            holders.remove(body);
            bytes -= body.length;
        }
    }

    /** Bytes of the bodies held now. */
    long bytes() {
        return bytes;
    }
}
