package org.epollproxy.loop;

/**
 * A log line that can come again and again while a condition lasts (a kernel that keeps refusing to watch a
 * listener fails its retry every 100 ms), written at most once per interval: the first at once, the ones
 * within the interval counted, and their number added to the next line written. The metric beside it
 * counts every one. Loop thread only.
 */
public final class ThrottledLine {
    private final long intervalNanos;
    private boolean writtenOnce;
    private long writtenAt;
    private long heldBack;

    public ThrottledLine(long intervalNanos) {
        this.intervalNanos = intervalNanos;
    }

    /** What to write now: {@code line}, with how many like it were held back since the last one; or null. */
    String next(String line, long nowNanos) {
        long before = nowNanos - writtenAt;
        long held = admit(nowNanos);
        if (held < 0) return null;
        return held == 0 ? line : line + " (" + held + " more like it in the " + before / 1_000_000_000L + " s before, not logged)";
    }

    /**
     * Whether a line may be written now: -1 if not (it is counted as held back), else how many were held back
     * since the last one written, for a caller that writes its own line about them.
     */
    public long admit(long nowNanos) {
        if (writtenOnce && nowNanos - writtenAt < intervalNanos) {
            heldBack++;
            return -1;
        }
        long held = heldBack;
        writtenOnce = true;
        writtenAt = nowNanos;
        heldBack = 0;
        return held;
    }
}
