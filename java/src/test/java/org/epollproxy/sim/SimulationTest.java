package org.epollproxy.sim;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Order;

/**
 * Thousands of seeded simulations of the real forwarding code (see {@link Simulation}). A failure
 * names its seed; {@code -Dsim.seed=N} runs that one seed alone with a trace; {@code -Dsim.seeds=N}
 * changes how many run (default 2000, 10000 with {@code -Dslow.tests}), {@code -Dsim.first=N} where they
 * start. The seeds that once found a bug (142, 232, 259, 1721) are in the default range.
 *
 * <pre>
 *   mvn -B -pl java test -Dtest=SimulationTest -Dsim.seed=1234
 *   mvn -B -pl java test -Dtest=SimulationTest -Dsim.seeds=100000 -Dsim.first=5000
 * </pre>
 */
@Order(1) // first: its two threads keep both cores busy while the other classes wait on sockets beside it
class SimulationTest {

    /**
     * The token guard, forced: a stale event of a closed fd in the batch that also accepts the client
     * reusing its number and slot (see {@link Scenarios#STALE_EVENT}). Random seeds almost never line
     * this up, so without this scenario removing the generation bump from EventLoop.release went unseen.
     */
    @Test
    void aStaleEventNeverReachesTheConnectThatReusedItsSlot() {
        Scenarios.STALE_EVENT.run();
    }

    /** Every named scenario, so this one class checks both the seeds and the forced situations. */
    @Test
    void everyNamedScenarioKeepsEveryInvariant() {
        List<String> failures = new ArrayList<>();
        for (Scenarios.Named s : Scenarios.ALL) {
            try {
                s.run();
            } catch (AssertionError e) { // a SimViolation, or a situation that did not happen
                failures.add(s.name() + ": " + e.getMessage());
            }
        }
        assertTrue(failures.isEmpty(), failures.size() + " named scenario(s) failed:\n" + String.join("\n", failures));
    }

    @Test
    void everySeedKeepsEveryInvariant() throws Exception {
        String one = System.getProperty("sim.seed");
        if (one != null && !one.isEmpty()) {
            Simulation.Result r = Simulation.run(Long.parseLong(one), true);
            System.out.println("simulation seed " + one + ": ok, " + describe(r));
            return;
        }
        long first = Long.getLong("sim.first", 1);
        // 2000 seeds by default: with the named scenarios they reach every line and branch of the main code
        // that 10000 reach (bench/results/unitfast-sim-coverage), and the other 8000 cost about 10 CPU-seconds
        // of every test command; a random sweep is what a flag may add (docs/testing.md, "What runs by default").
        int count = Integer.getInteger("sim.seeds", System.getProperty("slow.tests") != null ? 10000 : 2000);
        long t0 = System.nanoTime();
        int threads = Math.max(1, Math.min(2, Runtime.getRuntime().availableProcessors()));
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<Simulation.Result>> futures = new ArrayList<>();
        for (long s = first; s < first + count; s++) {
            long seed = s;
            futures.add(pool.submit(() -> Simulation.run(seed)));
        }
        List<String> failures = new ArrayList<>();
        Map<String, Integer> ends = new TreeMap<>();
        long bytes = 0, syscalls = 0, injected = 0, thrown = 0, accepted = 0, shutdowns = 0, datagrams = 0, replies = 0;
        for (Future<Simulation.Result> f : futures) {
            try {
                Simulation.Result r = f.get(10, TimeUnit.MINUTES);
                bytes += r.bytes;
                syscalls += r.syscalls;
                injected += r.injected;
                thrown += r.thrown;
                accepted += r.accepted;
                datagrams += r.udpDatagrams;
                replies += r.udpReplies;
                if (r.shutdown) shutdowns++;
                r.ends.forEach((k, v) -> ends.merge(k, v, Integer::sum));
            } catch (java.util.concurrent.ExecutionException e) {
                failures.add(e.getCause().getMessage());
            }
        }
        pool.shutdown();
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.printf("simulation: %d seeds (%d..%d) in %d ms on %d threads, %d failed; %d connections, %,d bytes checked,"
                        + " %,d UDP datagrams and %,d replies checked, %,d syscalls, %,d faults injected, %d exceptions injected,"
                        + " %d runs shut down mid-traffic; ends %s%n",
                count, first, first + count - 1, ms, threads, failures.size(), accepted, bytes, datagrams, replies, syscalls,
                injected, thrown, shutdowns, ends);
        for (int i = 0; i < Math.min(3, failures.size()); i++) System.out.println(failures.get(i));
        assertTrue(failures.isEmpty(), failures.size() + " seed(s) failed; the first:\n" + (failures.isEmpty() ? "" : failures.get(0)));
    }

    static String describe(Simulation.Result r) {
        return r.clientCount + " clients, " + r.accepted + " accepted, " + r.bytes + " bytes checked, " + r.iterations + " iterations, "
                + r.simNanos / 1_000_000 + " ms simulated, " + r.injected + " faults, " + r.thrown + " exceptions injected, ends " + r.ends;
    }
}
