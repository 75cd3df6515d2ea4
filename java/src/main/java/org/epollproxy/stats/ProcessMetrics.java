package org.epollproxy.stats;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.epollproxy.runtime.ProcStat;

/**
 * {@code /metrics}: the standard {@code process_*} metrics, read from {@code /proc} the way the Prometheus
 * client libraries do, so the usual dashboards and alerts (restarts, memory, fd exhaustion) work unchanged;
 * and {@code epollproxy_build_info}. A restart or a --takeover shows as a new
 * {@code process_start_time_seconds}. A file that cannot be read leaves its metric out rather than
 * failing the page.
 */
public final class ProcessMetrics {
    /**
     * The unit of the times in {@code /proc/PID/stat}: USER_HZ, 100 on every Linux architecture this
     * runs on (the kernel converts to it whatever its internal tick is).
     */
    static final double USER_HZ = 100.0;
    private static final Path PROC = Path.of("/proc");

    /** The version this was built as (the jar's manifest), or "development" for classes outside a jar. */
    static String version() {
        String v = ProcessMetrics.class.getPackage().getImplementationVersion();
        return v == null ? "development" : v;
    }

    static String render() {
        return render(PROC);
    }

    /** From {@code proc} (a test may point elsewhere); the process's own entries are {@code proc/self}. */
    static String render(Path proc) {
        PrometheusText p = new PrometheusText();
        p.family("epollproxy_build_info", "gauge", "Always 1; the labels say which build runs.");
        p.sample(1, "version", version());

        ProcStat stat = ProcStat.read(proc.resolve("self/stat"));
        if (stat != null && stat.has(ProcStat.STARTTIME)) {
            p.family("process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds.");
            p.sample(stat.cpuTicks() / USER_HZ);
            long bootTime = bootTime(proc.resolve("stat"));
            if (bootTime > 0) {
                p.family("process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch, in seconds.");
                p.sample(bootTime + stat.field(ProcStat.STARTTIME) / USER_HZ);
            }
        }
        long rss = statusKb(proc.resolve("self/status"), "VmRSS:");
        if (rss >= 0) {
            p.family("process_resident_memory_bytes", "gauge", "Resident memory size, in bytes.");
            p.sample(rss * 1024);
        }
        long vsz = statusKb(proc.resolve("self/status"), "VmSize:");
        if (vsz >= 0) {
            p.family("process_virtual_memory_bytes", "gauge", "Virtual memory size, in bytes.");
            p.sample(vsz * 1024);
        }
        long fds = openFds(proc.resolve("self/fd"));
        if (fds >= 0) {
            p.family("process_open_fds", "gauge", "Open file descriptors.");
            p.sample(fds);
        }
        long max = maxFds(proc.resolve("self/limits"));
        if (max >= 0) {
            p.family("process_max_fds", "gauge", "The soft limit on open file descriptors (RLIMIT_NOFILE).");
            p.sample(max);
        }
        return p.toString();
    }

    /** "btime" of /proc/stat: when the system booted, seconds since the epoch; -1 if unknown. */
    private static long bootTime(Path stat) {
        try {
            for (String line : Files.readAllLines(stat)) {
                if (line.startsWith("btime ")) return Long.parseLong(line.substring(6).trim());
            }
        } catch (IOException | RuntimeException e) {
            // left out
        }
        return -1;
    }

    /** A "Name:   1234 kB" line of /proc/PID/status, in kB; -1 if absent. */
    private static long statusKb(Path status, String name) {
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith(name)) return Long.parseLong(line.substring(name.length()).replace("kB", "").trim());
            }
        } catch (IOException | RuntimeException e) {
            // left out
        }
        return -1;
    }

    /** Entries of /proc/self/fd, less the one the listing itself holds open while it runs. */
    private static long openFds(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return Math.max(0, s.count() - 1);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * The soft limit of "Max open files" in /proc/PID/limits; -1 if unknown, {@code Long.MAX_VALUE} if
     * unlimited. The one reading of RLIMIT_NOFILE: /metrics shows it, and the start checks its forwards against it.
     */
    public static long maxFds(Path limits) {
        try {
            return maxFds(Files.readAllLines(limits));
        } catch (IOException e) {
            return -1; // not Linux's /proc
        }
    }

    /** The soft limit (the first of the two columns) of the "Max open files" line of a /proc/PID/limits text, or -1. */
    public static long maxFds(List<String> procLimits) {
        try {
            for (String line : procLimits) {
                if (!line.startsWith("Max open files")) continue;
                String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
                return soft.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(soft);
            }
        } catch (RuntimeException e) {
            // an unexpected format: unknown
        }
        return -1;
    }

    private ProcessMetrics() {}
}
