package org.epollproxy.loop;

/**
 * Counters of one event loop, written by its thread only. Other threads (the metrics endpoint) read
 * them without locks: a slightly stale value is fine for monitoring, and 64-bit writes are atomic on
 * the 64-bit JVMs this runs on.
 */
public final class LoopStats extends Counters<LoopStats> {
    /** epoll_wait calls. */
    public long waits;
    /** Events returned by all waits; events / waits is the batch size. */
    public long events;
    /** Events whose token named a slot freed earlier (fd closed, maybe reused): ignored. */
    public long staleEvents;
    public long ctlAdd;
    public long ctlMod;
    public long ctlDel;
    /** eventfd wakeups seen (cross-thread tasks, shutdown, reload). */
    public long wakeups;
    public long timersFired;
    /** Exceptions caught from handlers, timers or tasks. */
    public long handlerFailures;

    @Override
    protected LoopStats blank() {
        return new LoopStats();
    }
}
