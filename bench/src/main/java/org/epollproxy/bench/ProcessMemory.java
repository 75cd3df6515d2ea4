package org.epollproxy.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Resident memory of a forwarder, summed over its processes (a forking forwarder such as socat is a
 * tree of them): RSS from /proc/PID/status, and PSS from /proc/PID/smaps_rollup, which divides
 * shared pages among the processes sharing them and so does not count a forked parent's pages N times.
 */
final class ProcessMemory {
    final long rssKb;
    final long pssKb;
    final int processes;

    private ProcessMemory(long rssKb, long pssKb, int processes) {
        this.rssKb = rssKb;
        this.pssKb = pssKb;
        this.processes = processes;
    }

    /** The given processes and all their descendants. */
    static ProcessMemory ofTrees(List<Long> roots) throws IOException {
        Set<Long> pids = new LinkedHashSet<>(roots);
        List<long[]> parentOf = parents();
        boolean grew = true;
        while (grew) {
            grew = false;
            for (long[] pp : parentOf) {
                if (pids.contains(pp[1]) && pids.add(pp[0])) grew = true;
            }
        }
        long rss = 0;
        long pss = 0;
        int n = 0;
        for (long pid : pids) {
            long r = field(Path.of("/proc", Long.toString(pid), "status"), "VmRSS:");
            if (r < 0) continue; // exited meanwhile
            rss += r;
            pss += Math.max(0, field(Path.of("/proc", Long.toString(pid), "smaps_rollup"), "Pss:"));
            n++;
        }
        return new ProcessMemory(rss, pss, n);
    }

    /** {pid, ppid} of every process. */
    private static List<long[]> parents() throws IOException {
        List<long[]> out = new ArrayList<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path p : dir) {
                try {
                    String stat = Files.readString(p.resolve("stat"));
                    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'
                    String[] rest = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    out.add(new long[] {Long.parseLong(p.getFileName().toString()), Long.parseLong(rest[1])});
                } catch (IOException | RuntimeException e) {
                    // the process exited while we looked
                }
            }
        }
        return out;
    }

    /** The kB value of the line starting with {@code key}, or -1 if the file or line is missing. */
    private static long field(Path file, String key) {
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.startsWith(key)) return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]);
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
