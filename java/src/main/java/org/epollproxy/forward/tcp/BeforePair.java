package org.epollproxy.forward.tcp;

import org.epollproxy.forward.Connection;
import org.epollproxy.forward.ConnectionInfo;
import org.epollproxy.forward.EndReason;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.ForwardStats;
import org.epollproxy.forward.ForwardingLoop;
import org.epollproxy.loop.EventLoop;
import org.epollproxy.loop.Handler;
import org.epollproxy.shim.SockAddr;

/**
 * A client in a phase before its pair ({@link ProxyHeaderReader}, {@link PrereadReader}, {@link TlsHandshake}): its fd alone in
 * the loop, a deadline, bytes read and held, no backend socket yet. What such a phase shares: how it shows
 * in /connections, and its two ways out: {@link #leave} (the next phase takes the fd) or
 * {@link #closeClient} (closed; nothing of it reached a backend).
 */
abstract class BeforePair extends Connection implements Handler {
    final TcpListener listener;
    /** The listener's forward when the client arrived (a reload meanwhile does not change its phase). */
    final Forward forward;
    final ForwardingLoop fl;
    final EventLoop loop;
    final int fd;
    final long token;
    /** The client as known in this phase: the peer, or the address its PROXY header announced. */
    final SockAddr client;
    final long startNanos;
    boolean done;

    /** Registers {@code fd} with the loop: the caller closes it if this throws (nobody else would). */
    BeforePair(TcpListener listener, int fd, SockAddr client) {
        this.listener = listener;
        this.forward = listener.forward();
        this.fl = listener.forwardingLoop();
        this.loop = fl.loop();
        this.fd = fd;
        this.client = client;
        this.startNanos = loop.now();
        this.token = loop.register(fd, this);
    }

    /** The phase as /connections names it ({@code proxy-header}, {@code preread}). */
    abstract String phase();

    /** Bytes read and held so far. */
    abstract int held();

    /** The phase is over and the next one takes the fd: out of the loop and the table, still open. */
    final void leave() {
        done = true;
        loop.cancel(this);
        loop.release(token, true); // the fd stays open: out of the epoll set; the next phase adds it with its own handler
        fl.unlist(this);
    }

    /**
     * Closes the client and counts {@code reason}; false if it was over already. The caller then logs it
     * ({@code fl.closed}) with what its phase knows.
     */
    final boolean closeClient(EndReason reason) {
        if (done) return false;
        done = true;
        loop.cancel(this);
        loop.release(token, false);
        // Bytes left unread make close() send RST: fine for a client cut off mid-header or mid-hello.
        loop.kernel().close(fd);
        stats().ended(reason);
        return true;
    }

    long ageMs() {
        return (loop.now() - startNanos) / 1_000_000;
    }

    @Override
    public ForwardStats stats() {
        return listener.stats();
    }

    @Override
    public void addOpenBytes(ForwardStats into) {}

    @Override
    public ConnectionInfo info(EventLoop l) {
        long age = l.now() - startNanos; // nothing has moved on yet: idle since it came
        return new ConnectionInfo(l.id(), forward.bind().toString(), client.toString(), "-", "-", phase(),
                age, age, 0, 0, held(), 0, l.interest(token), 0, "copy");
    }
}
