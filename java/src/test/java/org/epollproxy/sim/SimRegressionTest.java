package org.epollproxy.sim;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Seeds on which the simulation shows a bug, two per bug, each failing when its fix is reverted
 * (checked against the code as merged with main, splice path included). A seed is tied to how this version of the simulation
 * draws its random numbers: if that changes, find new seeds by reverting the fix and running
 * {@link SimulationTest} with more seeds.
 */
class SimRegressionTest {

    @ParameterizedTest(name = "seed {0}: {1}")
    @CsvSource(delimiter = '|', value = {
        "102  | recv threw after pool.take(): the buffer leaked (Pair.read)",
        "1000 | recv threw after pool.take(): the buffer leaked (Pair.read)",
        "8    | set-up threw in the accept handler: the pair never ended (Forwarder.onAccept)",
        "1132 | setsockopt threw after accept: the accepted fd leaked (Forwarder.onAccept)",
        "459  | failover from the connect timer threw: the pair never ended (Pair.onTimer)",
        "1059 | failover from the connect timer threw: the loop waited forever (Pair.onTimer)",
        "34   | connect() returned 0: no idle timer, the pair never ended (Pair.connected)",
        "420  | connect() returned 0: no idle timer, the loop waited forever (Pair.connected)",
        "28   | timeout with bytes pending for the client: clean FIN on a truncated stream (Pair.close)",
        "25   | timeout with bytes pending for the backend: clean FIN on a truncated stream (Pair.close)",
        "67   | epoll_ctl ENOMEM on the listener: it never accepted again (TcpListener.updateInterest)",
        "125  | epoll_ctl ENOMEM on the listener: the loop waited forever (TcpListener.updateInterest)",
    })
    void seedThatOnceFoundABug(long seed, String bug) {
        Simulation.run(seed);
    }
}
