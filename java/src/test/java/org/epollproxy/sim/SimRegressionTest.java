package org.epollproxy.sim;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Seeds on which the simulation shows a bug, two per bug, each failing when its fix is reverted and
 * passing with it (checked on the code as merged with main). A seed is tied to this version of the
 * simulation and of the proxy: a change to either can change what it does, so after such a change
 * re-check them (revert the fix, run {@link SimulationTest} over a few thousand seeds, take the first
 * that fail) rather than trust them.
 */
class SimRegressionTest {

    @ParameterizedTest(name = "seed {0}: {1}")
    @CsvSource(delimiter = '|', value = {
        "10   | recv threw after pool.take(): the buffer leaked (Pair.read)",
        "47   | recv threw after pool.take(): the buffer leaked (Pair.read)",
        "2    | set-up threw in the accept handler: the fd leaked or the pair never ended (ForwardingLoop.onAccept)",
        "8    | set-up threw in the accept handler: the fd leaked or the pair never ended (ForwardingLoop.onAccept)",
        "21   | failover from the connect timer threw: the pair never ended (Pair.onTimer)",
        "723  | failover from the connect timer threw: the pair never ended (Pair.onTimer)",
        "34   | connect() returned 0: no idle timer, the pair never ended (Pair.connected)",
        "555  | connect() returned 0: no idle timer, the pair never ended (Pair.connected)",
        "2    | a timeout with bytes pending: a clean FIN on a truncated stream (Pair.close)",
        "10   | a timeout with bytes pending: a clean FIN on a truncated stream (Pair.close)",
        "5    | epoll_ctl ENOMEM on the listener: it never accepted again (TcpListener.updateInterest)",
        "981  | epoll_ctl ENOMEM on the listener: it never accepted again (TcpListener.updateInterest)",
        "38   | epoll_ctl ENOMEM on a new UDP session: it lived on deaf (UdpSession.open)",
        "131  | epoll_ctl ENOMEM on a new UDP session: it lived on deaf (UdpSession.open)",
    })
    void seedThatOnceFoundABug(long seed, String bug) {
        Simulation.run(seed);
    }
}
