package org.epollproxy.sim;

import org.junit.jupiter.api.Test;

/**
 * The bugs the simulation found, each as a named scenario ({@link Scenarios}) that forces the situation
 * instead of a seed that once happened to meet it: a seed is tied to one version of the simulation and
 * of the proxy, a forced situation is not. Each fails when the fix named in its scenario is reverted,
 * and only then (checked by reverting each fix in turn; docs/testing.md, "Deterministic simulation").
 */
class SimRegressionTest {

    @Test
    void aBufferIsNotLeakedWhenRecvThrowsAfterThePoolGaveIt() {
        Scenarios.RECV_THROWS_AFTER_POOL_TAKE.run();
    }

    @Test
    void anAcceptedFdIsClosedWhenItsSetUpThrows() {
        Scenarios.SETUP_THROWS_ON_ACCEPTED_FD.run();
    }

    @Test
    void aPairEndsWhenItsFirstConnectThrowsInsideTheAcceptHandler() {
        Scenarios.FIRST_CONNECT_THROWS.run();
    }

    @Test
    void aPairEndsWhenTheFailoverStartedByItsConnectTimerThrows() {
        Scenarios.FAILOVER_FROM_TIMER_THROWS.run();
    }

    @Test
    void aConnectThatAnswersAtOnceStillGetsAnIdleTimer() {
        Scenarios.CONNECT_AT_ONCE.run();
    }

    @Test
    void aTimeoutResetsTheSideThatStillHadBytesToGetInsteadOfAFin() {
        Scenarios.TIMEOUT_WITH_BYTES_PENDING.run();
    }

    @Test
    void aListenerWhoseReAddFailedIsRetriedAfterTheBackOff() {
        Scenarios.LISTENER_RE_ADD_FAILS.run();
    }

    @Test
    void aUdpSessionThatEpollCannotWatchIsDropped() {
        Scenarios.UDP_SESSION_WATCH_FAILS.run();
    }

    @Test
    void aPipeThatMayHoldBytesIsClosedNotReused() {
        Scenarios.PAIR_ENDS_WITH_BYTES_IN_PIPE.run();
    }
}
