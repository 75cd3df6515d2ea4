package org.epollproxy.loop;

/**
 * A log line that can come again and again while a condition lasts (a kernel that keeps refusing to watch a
 * listener fails its retry every 100 ms), written at most once per interval: the first at once, the ones
 * within the interval counted, and their number added to the next line written. The metric beside it
 * counts every one. Loop thread only.
 */
final class ThrottledLine {
    private final long intervalNanos;
    private boolean writtenOnce;
    private long writtenAt;
    private long heldBack;

    ThrottledLine(long intervalNanos) {
        this.intervalNanos = intervalNanos;
    }

    /** What to write now: {@code line}, with how many like it were held back since the last one; or null. */
    String next(String line, long nowNanos) {
        if (writtenOnce && nowNanos - writtenAt < intervalNanos) {
            heldBack++;
            return null;
        }
        String out = heldBack == 0 ? line
                : line + " (" + heldBack + " more like it in the " + (nowNanos - writtenAt) / 1_000_000_000L + " s before, not logged)";
        writtenOnce = true;
        writtenAt = nowNanos;
        heldBack = 0;
        return out;
    }
}
