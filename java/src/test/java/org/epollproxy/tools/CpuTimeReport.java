package org.epollproxy.tools;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.TestSource;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;

/**
 * Where the test command's CPU goes, with {@code -Dtest.cpu.report=FILE} (nothing without it): for each test
 * class and method, the CPU-seconds of the test JVM and of the child processes it reaped (the jars, openssl,
 * curl, ...: {@code /proc/self/stat}'s cutime and cstime), and the wall time, as a table in FILE. Classes run
 * side by side share the JVM's counters, so run them one at a time for a fair table:
 *
 * <pre>
 * mvn -B -o -q -pl java verify -Dfuzz.skip -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false \
 *   -Dtest.jvm.flags="--enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
 *   -Djunit.jupiter.execution.parallel.enabled=false -Dtest.cpu.report=/tmp/cpu.tsv"
 * </pre>
 *
 * A child counts when it is reaped, so a process a class leaves running is counted where it ends.
 */
public final class CpuTimeReport implements TestExecutionListener {
    private static final double CLOCK_TICKS = 100; // USER_HZ, 100 on every Linux architecture this runs on
    private final String out = System.getProperty("test.cpu.report");
    private final Map<String, long[]> start = new ConcurrentHashMap<>();
    private final StringBuffer lines = new StringBuffer();

    /** {own ticks, reaped children's ticks, nanoTime}. */
    private static long[] now() {
        try {
            String s = Files.readString(Path.of("/proc/self/stat"));
            String[] f = s.substring(s.lastIndexOf(')') + 2).split(" "); // fields from the 3rd (state) on
            return new long[] {Long.parseLong(f[11]) + Long.parseLong(f[12]), Long.parseLong(f[13]) + Long.parseLong(f[14]), System.nanoTime()};
        } catch (IOException e) {
            return new long[] {0, 0, System.nanoTime()};
        }
    }

    private static String name(TestSource source) {
        if (source instanceof ClassSource c) return c.getJavaClass().getSimpleName();
        if (source instanceof MethodSource m) return m.getJavaClass().getSimpleName() + "#" + m.getMethodName();
        return null;
    }

    @Override
    public void executionStarted(TestIdentifier id) {
        if (out != null && name(id.getSource().orElse(null)) != null) start.put(id.getUniqueId(), now());
    }

    @Override
    public void executionFinished(TestIdentifier id, TestExecutionResult result) {
        long[] s = start.remove(id.getUniqueId());
        if (s == null) return;
        long[] e = now();
        lines.append(String.format("%s\t%.2f\t%.2f\t%.1f%n", name(id.getSource().get()),
                (e[0] - s[0]) / CLOCK_TICKS, (e[1] - s[1]) / CLOCK_TICKS, (e[2] - s[2]) / 1e9));
    }

    @Override
    public void testPlanExecutionFinished(TestPlan plan) {
        if (out == null) return;
        long[] t = now();
        try {
            Files.writeString(Path.of(out), "test\tjvm_cpu_s\tchildren_cpu_s\twall_s\n" + lines
                    + String.format("whole JVM\t%.2f\t%.2f\t-%n", t[0] / CLOCK_TICKS, t[1] / CLOCK_TICKS));
        } catch (IOException e) {
            System.err.println("test.cpu.report: cannot write " + out + ": " + e);
        }
    }
}
