package org.epollproxy.runtime;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The CPU time the JVM's JIT compiler threads have used so far, from {@code /proc/self/task/TID/stat}: the
 * threads HotSpot names "C1 CompilerThreadN" and "C2 CompilerThreadN" (the kernel keeps 15 characters of a
 * thread's name: "C2 CompilerThre"). Compiler threads come and go (HotSpot starts more when its queue is
 * long and ends idle ones), so the total only counts growth per thread: it never falls when one exits.
 * No thread name there or nothing readable (not Linux, another JVM, {@code -Xint}): {@link #UNKNOWN}.
 */
final class CompilerCpu {
    /** What {@link #ticks()} answers when there are no compiler threads to read. */
    static final long UNKNOWN = -1;
    private static final String NAME_PART = "CompilerThre";

    private final Path tasks;
    private final Map<String, Long> lastByThread = new HashMap<>();
    private long total;

    /** The JVM's own compiler threads. */
    CompilerCpu() {
        this(Path.of("/proc/self/task"));
    }

    /** Those under {@code tasks} (a test's directory of TID/stat files). */
    CompilerCpu(Path tasks) {
        this.tasks = tasks;
    }

    /** The compiler threads' utime + stime so far, in clock ticks, never falling; or {@link #UNKNOWN}. */
    long ticks() {
        boolean seen = false;
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(tasks)) {
            for (Path task : dir) {
                long t = compilerTicks(task.resolve("stat"));
                if (t < 0) continue;
                seen = true;
                String tid = task.getFileName().toString();
                Long before = lastByThread.put(tid, t);
                total += Math.max(0, t - (before == null ? 0 : before));
            }
        } catch (IOException | RuntimeException e) {
            return UNKNOWN;
        }
        return seen ? total : UNKNOWN;
    }

    /** utime + stime of a compiler thread's stat file; -1 for another thread or one gone meanwhile. */
    private static long compilerTicks(Path stat) {
        ProcStat st = ProcStat.read(stat);
        if (st == null || !st.comm().contains(NAME_PART) || !st.has(ProcStat.STIME)) return -1;
        try {
            return st.cpuTicks();
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
