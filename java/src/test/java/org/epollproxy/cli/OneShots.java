package org.epollproxy.cli;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs of the jar that end by themselves (a usage error, a refusal, {@code --version}), started together and
 * waited for together, each kept under a name for the test that checks it. A class whose tests each wait
 * for such a run in turn waited for a dozen JVM starts in a row; started at once from {@code @BeforeAll},
 * the class waits a fraction of that, and each test still checks its own process (its exit status,
 * stderr, stdout) as before. At most {@link #AT_ONCE} run at a time: a JVM start is CPU-bound, so on the
 * 2-core machine more at once gain nothing, and a dozen at once starved the classes running beside this one
 * (a JDK 25 training run there missed its bound). Processes that must not run beside others (a test that
 * times a signal) or that the test talks to are not for this.
 */
final class OneShots implements AutoCloseable {
    /** How long each run may take in all: a dozen JVMs starting at once on 2 busy cores take a while. */
    static final int EXIT_S = JarProcess.START_S;
    /** How many run at a time: one more than the 2 cores, so a start's waits on its pipes and files are covered. */
    static final int AT_ONCE = 3;

    /** Starts a run: a JarProcess with flags or an fd limit of its own. */
    interface Start {
        JarProcess start() throws IOException;
    }

    private final Map<String, JarProcess> runs = new LinkedHashMap<>();

    /** Starts the jar with {@code args} under {@code name} once fewer than {@link #AT_ONCE} runs are running. */
    OneShots start(String name, String... args) throws IOException, InterruptedException {
        return add(name, () -> new JarProcess(args));
    }

    /** Starts a run of {@code start}'s own under {@code name} once fewer than {@link #AT_ONCE} runs are running. */
    OneShots add(String name, Start start) throws IOException, InterruptedException {
        if (runs.containsKey(name)) throw new IllegalArgumentException("two runs named " + name);
        List<CompletableFuture<Process>> running = runs.values().stream().map(r -> r.process).filter(Process::isAlive)
                .map(Process::onExit).toList();
        if (running.size() >= AT_ONCE) { // until any of them ends: one slow run (a DNS lookup) holds up no other
            try {
                CompletableFuture.anyOf(running.toArray(new CompletableFuture<?>[0])).get(EXIT_S, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException e) {
                // awaitAll says which run never ended
            }
        }
        runs.put(name, start.start());
        return this;
    }

    /** Waits until every run has ended (at most {@link #EXIT_S} s each): their stdout and stderr are then whole. */
    OneShots awaitAll() throws InterruptedException {
        for (JarProcess p : runs.values()) p.exitCode(EXIT_S);
        return this;
    }

    /** The run named {@code name}. */
    JarProcess get(String name) {
        JarProcess p = runs.get(name);
        if (p == null) throw new IllegalArgumentException("no run named " + name + " (known: " + runs.keySet() + ")");
        return p;
    }

    @Override
    public void close() {
        for (JarProcess p : runs.values()) p.close();
    }
}
