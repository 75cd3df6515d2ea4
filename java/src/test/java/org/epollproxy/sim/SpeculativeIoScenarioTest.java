package org.epollproxy.sim;

import org.junit.jupiter.api.Test;

/**
 * The edges of speculative I/O (docs/internals.md): the client read right after accept and the send right
 * after a loopback connect, each forced by a named scenario ({@link Scenarios}) in which every client acts
 * before it is accepted and every connect is answered inside the call, as on loopback. The simulation's
 * invariants judge each run (every byte delivered once and in order, failover only after a real failure,
 * every fd closed once); each scenario also checks that its situation happened.
 */
class SpeculativeIoScenarioTest {

    @Test
    void aRefusalSeenByTheSendAfterAConnectFailsOverWithTheBytes() {
        Scenarios.SPECULATIVE_SEND_REFUSED.run();
    }

    @Test
    void aPartialSendAfterAConnectLeavesTheRestToTheUsualFlush() {
        Scenarios.SPECULATIVE_SEND_PARTIAL.run();
    }

    @Test
    void aFinReadAtAcceptReachesTheBackendOnceConnected() {
        Scenarios.CLIENT_FIN_BEFORE_FIRST_READ.run();
    }

    @Test
    void aResetReadAtAcceptEndsThePairBeforeAnyConnect() {
        Scenarios.CLIENT_RESET_BEFORE_FIRST_READ.run();
    }

    @Test
    void aClientThatWaitsForTheServerIsWatchedAfterAnEmptyFirstRead() {
        Scenarios.SERVER_SPEAKS_FIRST.run();
    }
}
