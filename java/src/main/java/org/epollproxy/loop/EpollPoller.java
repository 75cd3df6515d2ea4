package org.epollproxy.loop;

import org.epollproxy.shim.Epoll;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.SyscallException;

/**
 * The loop over level-triggered epoll: one {@code epoll_ctl} per change of a mask (ADD from 0, MOD between
 * non-zero masks, DEL at 0) and one {@code epoll_wait} per iteration, each event's token the slot's.
 * Deleting at 0 matters: EPOLLHUP and EPOLLERR are reported even for mask 0, so a hung-up socket left
 * registered with no interest would wake a level-triggered loop forever.
 */
final class EpollPoller implements Poller {
    private final Kernel kernel;
    private final Epoll epoll;
    private final LoopStats stats;

    /** An epoll fd with the loop's wakeup eventfd in it (EPOLLIN, token {@code wakeToken}; not counted as a handler's ADD). */
    EpollPoller(Kernel kernel, LoopStats stats, int wakeFd, long wakeToken) {
        this.kernel = kernel;
        this.stats = stats;
        this.epoll = Epoll.open(kernel, 256);
        int rc = epoll.add(wakeFd, Epoll.EPOLLIN, wakeToken);
        if (rc < 0) {
            epoll.close();
            throw new SyscallException("epoll_ctl ADD eventfd", rc);
        }
    }

    @Override
    public int interest(int slot, int fd, long token, int old, int mask) {
        int op;
        if (old == 0) {
            op = Epoll.EPOLL_CTL_ADD;
            stats.ctlAdd++;
        } else if (mask == 0) {
            op = Epoll.EPOLL_CTL_DEL;
            stats.ctlDel++;
        } else {
            op = Epoll.EPOLL_CTL_MOD;
            stats.ctlMod++;
        }
        return kernel.epoll_ctl(epoll.fd(), op, fd, mask, token);
    }

    /**
     * Closing an fd removes it from the epoll set by itself (we never dup sockets), so no EPOLL_CTL_DEL is
     * spent unless the fd stays open or another process may hold its socket (a listener after a takeover
     * or under systemd): while any copy is open, closing ours leaves it registered (epoll(7);
     * docs/epoll-lessons.md, lesson 12).
     */
    @Override
    public void release(int slot, int fd, int mask, boolean delete) {
        if (delete && mask != 0) {
            kernel.epoll_ctl(epoll.fd(), Epoll.EPOLL_CTL_DEL, fd, 0, 0);
            stats.ctlDel++;
        }
    }

    @Override
    public int poll(int timeoutMs, EventLoop loop) {
        int n = epoll.wait(timeoutMs);
        loop.woke();
        if (n < 0) {
            // EINTR comes back as 0 from the shim; anything else (EBADF, EFAULT) is a bug here.
            throw new SyscallException("epoll_wait", n);
        }
        for (int i = 0; i < n; i++) loop.dispatch(epoll.token(i), epoll.events(i));
        epoll.growIfFull(n);
        return n;
    }

    @Override
    public String name() {
        return "epoll";
    }

    @Override
    public void close() {
        epoll.close();
    }
}
