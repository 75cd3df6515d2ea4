package org.epollproxy.sim;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Seeds on which the simulation found a bug, one or more per bug, each failing when its fix is
 * reverted (checked when the fix was made). A seed is tied to how this version of the simulation
 * draws its random numbers: if that changes, find new seeds by reverting the fix and running
 * {@link SimulationTest} with more seeds.
 */
class SimRegressionTest {

    @ParameterizedTest(name = "seed {0}: {1}")
    @CsvSource(delimiter = '|', value = {
        "102  | recv threw after pool.take(): the buffer leaked (Pair.read)",
        "1001 | recv threw after pool.take(): the buffer leaked (Pair.read)",
        "2    | set-up threw in the accept handler: the pair never ended (Forwarder.onAccept)",
        "113  | setsockopt threw after accept: the accepted fd leaked (Forwarder.onAccept)",
        "530  | failover from the connect timer threw: the pair was stuck (Pair.onTimer)",
        "823  | failover from the connect timer threw: recv on a never-connected socket (Pair.onTimer)",
        "70   | connect() returned 0: no idle timer, the pair never ended (Pair.connected)",
        "162  | connect() returned 0: no idle timer, the loop waited forever (Pair.connected)",
        "27   | timeout with bytes pending for the client: clean FIN on a truncated stream (Pair.close)",
        "13   | timeout with bytes pending for the backend: clean FIN on a truncated stream (Pair.close)",
        "481  | timeout with bytes pending for the backend: clean FIN on a truncated stream (Pair.close)",
        "67   | epoll_ctl ENOMEM on the listener: it never accepted again (TcpListener.updateInterest)",
    })
    void seedThatOnceFoundABug(long seed, String bug) {
        Simulation.run(seed);
    }
}
