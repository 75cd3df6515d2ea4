package org.epollproxy.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** What /proc says about a process: open fds, CPU time of a thread by name, resident memory. */
final class ProcStat {
    /** USER_HZ: the unit of utime/stime in /proc/PID/stat on Linux. */
    static final int CLOCK_TICKS_PER_SECOND = 100;

    static int openFds(long pid) throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            return (int) s.count();
        }
    }

    /** utime + stime of the process's thread named {@code name} (as /proc/PID/task/TID/comm shows it), in ticks. */
    static long threadCpuTicks(long pid, String name) throws IOException {
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                if (Files.readString(t.resolve("comm")).strip().equals(name)) return cpuTicks(t.resolve("stat"));
            }
        }
        throw new IllegalStateException("no thread named " + name + " in process " + pid);
    }

    /** utime + stime of the whole process, in ticks. */
    static long processCpuTicks(long pid) throws IOException {
        return cpuTicks(Path.of("/proc", Long.toString(pid), "stat"));
    }

    private static long cpuTicks(Path stat) throws IOException {
        String s = Files.readString(stat);
        // Fields after the ")" that ends the command name: state is field 3, utime 14, stime 15.
        String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    /** VmRSS in KiB. */
    static long rssKiB(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        return -1;
    }

    private ProcStat() {}
}
