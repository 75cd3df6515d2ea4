package org.epollproxy.cli;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Runs of the jar that end by themselves (a usage error, a refusal, {@code --version}), started together and
 * waited for together, each kept under a name for the test that checks it. A class whose tests each wait
 * for such a run in turn waited for a dozen JVM starts in a row; started at once from {@code @BeforeAll},
 * the class waits about as long as for the slowest of them, and each test still checks its own process
 * (its exit status, stderr, stdout) as before. Processes that must not run beside others (a test that
 * times a signal) or that the test talks to are not for this.
 */
final class OneShots implements AutoCloseable {
    /** How long each run may take in all: a dozen JVMs starting at once on 2 busy cores take a while. */
    static final int EXIT_S = JarProcess.START_S;

    private final Map<String, JarProcess> runs = new LinkedHashMap<>();

    /** Starts the jar with {@code args} under {@code name}; not waited for yet. */
    OneShots start(String name, String... args) throws IOException {
        return add(name, new JarProcess(args));
    }

    /** Adds a process started elsewhere (with JVM flags or an fd limit of its own). */
    OneShots add(String name, JarProcess p) {
        if (runs.putIfAbsent(name, p) != null) {
            p.close();
            throw new IllegalArgumentException("two runs named " + name);
        }
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
