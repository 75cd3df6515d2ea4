package org.epollproxy.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * CPU time the forwarder spends, from {@code /proc/PID/stat}: utime + stime of the process (all its
 * threads) plus cutime + cstime (children it has reaped: socat's per-connection processes). The
 * load client samples it at the start and end of its measured window, so a figure's "cores" and
 * "CPU per operation" cover exactly the operations it counts. The PIDs come from the environment
 * ({@code CPU_PIDS}, space separated), so the command lines stay as they were.
 */
final class ProcessCpu {
    /** USER_HZ: the unit of /proc/PID/stat times; 100 on every Linux ABI the project builds for. */
    static final double TICKS_PER_S = 100;

    private final List<Long> pids;
    private long ticks0;
    private long nanos0;

    private ProcessCpu(List<Long> pids) {
        this.pids = pids;
    }

    /** The processes named in {@code CPU_PIDS}, or null when it is unset or empty. */
    static ProcessCpu fromEnv() {
        String v = System.getenv("CPU_PIDS");
        if (v == null || v.isBlank()) return null;
        List<Long> pids = new ArrayList<>();
        for (String s : v.trim().split("\\s+")) pids.add(Long.parseLong(s));
        return new ProcessCpu(pids);
    }

    /** Start of the measured window. */
    void start() {
        ticks0 = ticks();
        nanos0 = System.nanoTime();
    }

    /** " cpu_cores=X cpu_us_per_op=Y" for the window since {@link #start()} in which {@code ops} happened. */
    String end(long ops) {
        double cpuS = (ticks() - ticks0) / TICKS_PER_S;
        double wallS = (System.nanoTime() - nanos0) / 1e9;
        return String.format(Locale.ROOT, " cpu_cores=%.3f cpu_us_per_op=%.2f", cpuS / wallS, ops == 0 ? Double.NaN : cpuS * 1e6 / ops);
    }

    /** Summed utime + stime + cutime + cstime of the processes, in ticks; a vanished process counts 0. */
    long ticks() {
        long sum = 0;
        for (long pid : pids) sum += ticksOf(pid);
        return sum;
    }

    static long ticksOf(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            // After "pid (comm) " (comm may hold spaces and parentheses): state is field 3, utime 14 ... cstime 17.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }
}
