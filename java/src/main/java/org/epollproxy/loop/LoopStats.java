package org.epollproxy.loop;

/**
 * Counters of one event loop, written and read on its thread only, hence plain fields. The metrics
 * endpoint never reads them from its own thread: it posts a task to the loop ({@link EventLoop#execute})
 * that copies them there, and reads the copy.
 */
public final class LoopStats extends Counters<LoopStats> {
    /** 1 while the loop waits in io_uring ({@code --io-uring}), 0 on epoll. */
    public long ioUring;
    /** Polls armed in the ring (one-shot: one per event delivered and per change of interest). */
    public long ringPolls;
    /** Sends handed to the ring; those that ended in an error; those cancelled because their connection ended first. */
    public long ringSends;
    public long ringSendErrors;
    public long ringSendsCancelled;
    /** Polls the kernel refused to arm (their completion was an errno): each one its handler's failure. */
    public long ringPollFailures;
    /** epoll_wait calls (io_uring_enter waits on io_uring). */
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
