package org.epollproxy.loop;

/**
 * Counters of one event loop, written and read on its thread only, hence plain fields. The metrics
 * endpoint never reads them from its own thread: it posts a task to the loop ({@link EventLoop#execute})
 * that copies them there, and reads the copy.
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
