package org.epollproxy.forward;

import java.io.PrintStream;
import java.time.Clock;

/**
 * The proxy's stderr log for one loop. Lines are collected during an iteration and written with one
 * call at its end ({@link #flush}), so logging a busy second of connections costs a few writes, not
 * one per connection, and lines from different loops never interleave mid-line.
 */
public final class Log {
    private final PrintStream out;
    private final StringBuilder batch = new StringBuilder();
    private final Clock clock;

    public Log(PrintStream out) {
        this(out, Clock.systemUTC());
    }

    /** With the timestamps read from {@code clock} (tests). */
    Log(PrintStream out, Clock clock) {
        this.out = out;
        this.clock = clock;
    }

    /** Starts a line with the UTC timestamp; finish it and call {@link #end}. */
    public StringBuilder line() {
        return batch.append(LogTime.now(clock)).append(' ');
    }

    public void end() {
        batch.append('\n');
    }

    public void info(String msg) {
        line().append(msg);
        end();
    }

    public void error(String msg) {
        line().append("error: ").append(msg);
        end();
    }

    /** Writes the batch (if any) in one call. */
    public void flush() {
        if (batch.length() == 0) return;
        out.print(batch);
        out.flush();
        batch.setLength(0);
    }
}
