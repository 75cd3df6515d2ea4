package org.epollproxy.forward;

import org.epollproxy.loop.EventLoop;
import org.epollproxy.loop.Handler;
import org.epollproxy.shim.Kernel;

/** What TCP and UDP listeners share: their loop, their socket and its token, the forward they serve, counters. */
abstract class ListenerBase implements Listener, Handler {
    final Forwarder fw;
    final EventLoop loop;
    final Kernel k;
    final int fd;
    final long token;
    private final ForwardStats stats = new ForwardStats();
    private Forward forward;

    ListenerBase(Forwarder fw, Forward forward, int fd) {
        this.fw = fw;
        this.loop = fw.loop();
        this.k = loop.kernel();
        this.forward = forward;
        this.fd = fd;
        this.token = loop.register(fd, this);
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
