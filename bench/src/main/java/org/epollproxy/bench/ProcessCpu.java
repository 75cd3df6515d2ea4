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
    private long userTicks0;
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
        userTicks0 = userTicks();
        nanos0 = System.nanoTime();
    }

    /**
     * " cpu_cores=X cpu_us_per_op=Y cpu_user_us_per_op=U cpu_sys_us_per_op=S" for the window since
     * {@link #start()} in which {@code ops} happened: user is the forwarder's own code, system the kernel's
     * work on its behalf (the TCP stack, epoll), which no forwarder can avoid.
     */
    String end(long ops) {
        long ticks = ticks() - ticks0, user = userTicks() - userTicks0;
        double wallS = (System.nanoTime() - nanos0) / 1e9;
        double perOp = ops == 0 ? Double.NaN : 1e6 / TICKS_PER_S / ops;
        return String.format(Locale.ROOT, " cpu_cores=%.3f cpu_us_per_op=%.2f cpu_user_us_per_op=%.2f cpu_sys_us_per_op=%.2f",
                ticks / TICKS_PER_S / wallS, ticks * perOp, user * perOp, (ticks - user) * perOp);
    }

    /** Summed utime + cutime of the processes, in ticks. */
    long userTicks() {
        long sum = 0;
        for (long pid : pids) sum += fields(pid, 11, 13);
        return sum;
    }

    /** Summed utime + stime + cutime + cstime of the processes, in ticks; a vanished process counts 0. */
    long ticks() {
        long sum = 0;
        for (long pid : pids) sum += ticksOf(pid);
        return sum;
    }

    static long ticksOf(long pid) {
        return fields(pid, 11, 12, 13, 14);
    }

    /** The sum of the given fields of /proc/PID/stat, counted after "pid (comm) "; 0 for a vanished process. */
    private static long fields(long pid, int... which) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            // After "pid (comm) " (comm may hold spaces and parentheses): state is field 3, utime 14 ... cstime 17.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long sum = 0;
            for (int i : which) sum += Long.parseLong(f[i]);
            return sum;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }
}
