package org.epollproxy.stats;

import java.util.concurrent.TimeUnit;

/**
 * When the next /connections round may start (stats loop only). Its round has every forwarding loop copy
 * every open connection, tens of milliseconds with 50,000 of them: a client asking again as soon as each
 * answer came kept the forwarding loops copying most of the time. So a round starts no sooner than
 * {@link #FACTOR} times the last one's duration after it ended (at most {@link #MAX_GAP_NANOS}): copying
 * takes at most a tenth of the loops' time whoever asks, and a request arriving sooner waits for that
 * round (requests arriving meanwhile join it) rather than getting an older answer.
 */
final class RoundPacing {
    static final int FACTOR = 9;
    static final long MAX_GAP_NANOS = TimeUnit.SECONDS.toNanos(5);
    private long notBefore = Long.MIN_VALUE;

    /** The stats loop time before which no new round starts. */
    long notBefore() {
        return notBefore;
    }

    /** A round ran from {@code startedAt} to {@code endedAt} (stats loop times). */
    void ran(long startedAt, long endedAt) {
        notBefore = endedAt + Math.min(MAX_GAP_NANOS, FACTOR * Math.max(0, endedAt - startedAt));
    }
}
