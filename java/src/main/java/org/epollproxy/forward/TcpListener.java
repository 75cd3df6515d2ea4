package org.epollproxy.forward;

import static org.epollproxy.shim.Epoll.EPOLLIN;

import org.epollproxy.loop.Timer;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.SockAddr;

/**
 * A listening socket of one forward on one loop. On EPOLLIN it accepts until -EAGAIN (at most
 * {@link #ACCEPTS_PER_WAKEUP} at a time, so one busy port cannot starve the other fds).
 *
 * <p>EMFILE/ENFILE: the pending connection stays in the backlog, so a level-triggered listener would
 * be reported again at once and spin a core. Instead the listener leaves the epoll set for
 * {@link #BACKOFF_MS} ms (its own timer), logs once per episode, and retries; connections closing in
 * the meantime free fds and accepting resumes.
 */
final class TcpListener extends ListenerBase {
    static final int ACCEPTS_PER_WAKEUP = 64;
    static final int BACKOFF_MS = 100;

    private boolean pausedForFds;
    private boolean pausedForCap;
    private long fdPauses;
    private boolean closed;

    /** Re-checks a paused listener: after the EMFILE back-off, or for room below --max-connections. */
    private final Timer resume = new Timer() {
        @Override
        protected void onTimer(long now) {
            if (pausedForFds && parked > 0) { // a client already accepted still waits for an fd: it goes first
                loop.schedule(this, now + BACKOFF_MS * 1_000_000L);
                return;
            }
            pausedForFds = false;
            if (pausedForCap && !fw.atCapacity()) pausedForCap = false;
            updateInterest();
            // Another loop's connections may free the capacity: look again soon rather than wait for a wakeup.
            if (pausedForCap) loop.schedule(this, now + CAP_RECHECK_MS * 1_000_000L);
        }
    };

    static final int CAP_RECHECK_MS = 20;

    TcpListener(Forwarder fw, Forward forward, int fd) {
        super(fw, forward, fd);
    }

    /** Pairs of this listener waiting for an fd for their backend socket (Pair.parkForFd). */
    private int parked;

    void parked(int delta) {
        parked += delta;
    }

    void start() {
        updateInterest();
    }

    @Override
    public void onEvent(int events) {
        for (int i = 0; i < ACCEPTS_PER_WAKEUP && !closed && !pausedForFds; i++) {
            if (fw.atCapacity()) {
                pauseForCap();
                return;
            }
            long addrBuf = fw.scratchAddress();
            int c = k.accept(fd, addrBuf);
            if (c >= 0) {
                stats().accepted++;
                fw.onAccept(this, c, SockAddr.read(fw.scratch().buffer(), 0));
                continue;
            }
            if (c == -Errno.EAGAIN) break;
            if (c == -Errno.EMFILE || c == -Errno.ENFILE || c == -Errno.ENOBUFS || c == -Errno.ENOMEM) {
                pauseForFds(c);
                break;
            }
            // ECONNABORTED, EPERM (firewall), EPROTO...: that one connection is gone; keep accepting.
            fw.log().error("accept on " + forward().bind() + ": " + Errno.describe(c));
        }
        if (fdPauses > 0 && !pausedForFds) {
            fw.log().info("accepting again on " + forward().bind() + " after " + fdPauses + " pause(s) of " + BACKOFF_MS + " ms");
            fdPauses = 0;
        }
    }

    /**
     * Out of fds, at accept or at the backend socket of a connection just accepted: stop accepting for
     * the back-off. Without it, a process with one fd free accepts, fails its backend socket and drops
     * every connection waiting in the backlog in a burst.
     */
    void pauseForFds(int err) {
        if (pausedForFds) return;
        stats().acceptPauses++;
        if (fdPauses++ == 0) {
            fw.log().error("accept on " + forward().bind() + ": " + Errno.describe(err)
                    + ": pausing this listener for " + BACKOFF_MS + " ms at a time until fds are free");
        }
        pausedForFds = true;
        updateInterest();
        loop.schedule(resume, loop.now() + BACKOFF_MS * 1_000_000L);
    }

    private void pauseForCap() {
        if (pausedForCap) return;
        pausedForCap = true;
        stats().capPauses++;
        updateInterest();
        if (!resume.isScheduled()) loop.schedule(resume, loop.now() + CAP_RECHECK_MS * 1_000_000L);
    }

    /** A connection closed on this loop: if we stopped at --max-connections, accept again at once. */
    void capacityFreed() {
        if (pausedForCap && !fw.atCapacity()) {
            pausedForCap = false;
            updateInterest();
        }
    }

    private void updateInterest() {
        if (closed) return;
        int rc = loop.setInterest(token, pausedForFds || pausedForCap ? 0 : EPOLLIN);
        if (rc < 0) {
            // ENOMEM/ENOSPC are transient: retry after the back-off, or this port stops accepting for good.
            fw.log().error("epoll_ctl on listener " + forward().bind() + ": " + Errno.describe(rc) + "; retrying in " + BACKOFF_MS + " ms");
            loop.schedule(resume, loop.now() + BACKOFF_MS * 1_000_000L);
        }
    }

    /** Stops listening: leaves the loop and closes the fd. Open pairs are not touched. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        loop.cancel(resume);
        loop.release(token, false);
        k.close(fd);
    }
}
