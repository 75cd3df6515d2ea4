package org.epollproxy.forward;

import org.epollproxy.loop.EventLoop;
import org.epollproxy.loop.Handler;
import org.epollproxy.shim.Kernel;

/** What TCP and UDP listeners share: their loop, their socket and its token, the forward they serve, counters. */
public abstract class ListenerBase implements Listener, Handler {
    protected final ForwardingLoop fl;
    protected final EventLoop loop;
    protected final Kernel k;
    protected final int fd;
    protected final long token;
    private final ForwardStats stats = new ForwardStats();
    private Forward forward;

    protected ListenerBase(ForwardingLoop fl, Forward forward, int fd) {
        this.fl = fl;
        this.loop = fl.loop();
        this.k = loop.kernel();
        this.forward = forward;
        this.fd = fd;
        this.token = loop.register(fd, this);
    }

    /** The loop this listener belongs to, and what it forwards with. */
    public final ForwardingLoop forwardingLoop() {
        return fl;
    }

    @Override
    public final Forward forward() {
        return forward;
    }

    @Override
    public final void setForward(Forward f) {
        this.forward = f;
    }

    @Override
    public final ForwardStats stats() {
        return stats;
    }

    @Override
    public void onFailure(RuntimeException e) {
        // Keep listening: the connection or datagram involved is the only loss, and the loop logged it.
    }
}
