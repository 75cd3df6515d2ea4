package org.epollproxy.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One {@code /proc/PID/stat} or {@code /proc/PID/task/TID/stat} line (proc(5)): the command name, and the
 * fields after it, numbered as the manual numbers them. The name is cut at the last ')', since a thread
 * or program may put spaces and parentheses in its own name. Read by the warm-up (the JIT's compiler
 * threads' CPU) and by {@code /metrics} (the process's CPU and start time).
 */
public final class ProcStat {
    /** proc(5)'s numbers of the fields read here. */
    public static final int UTIME = 14, STIME = 15, STARTTIME = 22;
    /** The first field after the name: the state, field 3. */
    private static final int FIRST = 3;

    private final String comm;
    private final String[] fields;

    private ProcStat(String comm, String[] fields) {
        this.comm = comm;
        this.fields = fields;
    }

    /** The line of {@code stat}, or null when it cannot be read (a thread gone meanwhile) or is no stat line. */
    public static ProcStat read(Path stat) {
        try {
            String s = Files.readString(stat);
            int open = s.indexOf('('), close = s.lastIndexOf(')');
            if (close < 0) return null;
            String comm = open >= 0 && open < close ? s.substring(open + 1, close) : "";
            return new ProcStat(comm, s.substring(close + 2).trim().split(" "));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** The command name, as the kernel keeps it (15 characters at most). */
    public String comm() {
        return comm;
    }

    /** Whether the line has field {@code n}. */
    public boolean has(int n) {
        return n - FIRST < fields.length;
    }

    /** Field {@code n} as a number; NumberFormatException if it is none. */
    public long field(int n) {
        return Long.parseLong(fields[n - FIRST]);
    }

    /** utime + stime, in clock ticks (USER_HZ). */
    public long cpuTicks() {
        return field(UTIME) + field(STIME);
    }
}
