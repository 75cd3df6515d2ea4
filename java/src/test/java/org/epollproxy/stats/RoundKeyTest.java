package org.epollproxy.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.junit.jupiter.api.Test;

/**
 * Requests that arrive while a round is under way join it and get its answer: only requests whose answer is
 * the same may share one. Two /connections requests with different filters sharing a round got the first
 * one's list (the status page polls every 2 s, so overlaps are common).
 */
class RoundKeyTest {
    @Test
    void connectionsShareARoundOnlyWithTheSameFilters() {
        assertNotEquals(StatsServer.roundKey("/connections", "forward=127.0.0.1:9000", false),
                StatsServer.roundKey("/connections", "client=10.1.2.3", false));
        assertNotEquals(StatsServer.roundKey("/connections", null, false),
                StatsServer.roundKey("/connections", "client=10.1.2.3", false));
        assertEquals(StatsServer.roundKey("/connections", "client=10.1.2.3", false),
                StatsServer.roundKey("/connections", "client=10.1.2.3", false));
    }

    @Test
    void probesShareOneRoundAndMetricsItsOwn() {
        assertEquals(StatsServer.roundKey("/healthz", null, true), StatsServer.roundKey("/livez", null, true));
        assertEquals(StatsServer.roundKey("/metrics", null, false), StatsServer.roundKey("/metrics", "x", false));
        assertNotEquals(StatsServer.roundKey("/metrics", null, false), StatsServer.roundKey("/healthz", null, true));
    }
}
