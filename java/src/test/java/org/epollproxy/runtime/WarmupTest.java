package org.epollproxy.runtime;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.epollproxy.forward.Settings;
import org.epollproxy.shim.Shim;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * --warmup auto in this JVM: rounds of private forwards, and no reading of the JIT only makes it a fixed time.
 * The tests that neither count fds nor read the JIT are in {@link WarmupFixedTimeTest}, beside other classes.
 */
@Isolated("counts the JVM's open fds, and reads how busy its JIT is")
class WarmupTest {
    private static long openFds() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    /**
     * Two rounds, each on a new private forward: a new forward's first moments (an empty buffer pool, a new
     * loop's first registrations, the wake-up at stop) are then compiled in before the real forward's.
     */
    @Test
    void withoutTheCompilersCpuAutoRunsAFixedTimePerRoundAndLeavesNoFd() throws Exception {
        long fdsBefore = openFds();
        Warmup.Result r = Warmup.run(Shim.load(), Settings.DEFAULTS, Warmup.AUTO, new CompilerCpu(Path.of("/nonexistent/task")));
        assertTrue(r.connections() > 0, "connections went through: " + r);
        assertTrue(r.how().contains("2 rounds") && r.how().contains("not readable"), r.how());
        // every private forward, backend and client socket closed (some by threads that end after run returns)
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        // One reading judges: read again for the assert, an fd open for a moment in between (seen once: "fds
        // before 40, after 40" failed) failed a warm-up that had closed everything.
        long after;
        while ((after = openFds()) > fdsBefore && System.nanoTime() < deadline) Thread.sleep(20);
        assertTrue(after <= fdsBefore, "fds before " + fdsBefore + ", after " + after);
    }

    @Test
    void autoEndsOnItsOwnWithThisJvmsCompiler() {
        Warmup.Result r = Warmup.run(Shim.load(), Settings.DEFAULTS, Warmup.AUTO);
        assertTrue(r.connections() > 0, "connections went through: " + r);
        assertTrue(r.how().startsWith("2 rounds, until the JIT was quiet") || r.how().contains("cap"), r.how());
    }
}
