package org.epollproxy.loop;

/**
 * A deadline in an {@link EventLoop}'s timer heap. Subclass it (one instance per owner, reused), then
 * {@link EventLoop#schedule} / {@link EventLoop#cancel}: no allocation per (re)schedule.
 */
public abstract class Timer {
    long deadline; // System.nanoTime() based
    int heapIndex = -1; // position in TimerHeap, -1 when not scheduled

    /** Runs on the loop thread when the deadline has passed; the timer is no longer scheduled. */
    protected abstract void onTimer(long now);

    public final boolean isScheduled() {
        return heapIndex >= 0;
    }

    public final long deadline() {
        return deadline;
    }
}
