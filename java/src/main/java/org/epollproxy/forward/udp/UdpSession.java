package org.epollproxy.forward.udp;

import static org.epollproxy.shim.Epoll.EPOLLIN;

import org.epollproxy.forward.EndReason;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.ForwardingLoop;
import org.epollproxy.loop.EventLoop;
import org.epollproxy.loop.Handler;
import org.epollproxy.loop.Timer;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.Net;
import org.epollproxy.shim.SockAddr;

/**
 * One UDP client address and its own backend socket, connect()ed to the backend so the kernel delivers
 * only the backend's replies to it; each reply goes back through the listening socket to this client and
 * to no one else. Ends after the forward's idle timeout, when evicted as the oldest at the session cap, or
 * at shutdown. It is its own idle timer, re-armed lazily.
 */
final class UdpSession extends Timer implements Handler {
    private final UdpListener listener;
    private final ForwardingLoop fl;
    private final EventLoop loop;
    private final Kernel k;
    final Forward forward;
    final SockAddr client;
    final int fd;
    private final long token;
    private final long start;
    private long lastActivity;
    long up;
    long down;
    private boolean closed;

    private UdpSession(UdpListener listener, Forward forward, SockAddr client, int fd) {
        this.listener = listener;
        this.fl = listener.forwardingLoop();
        this.loop = fl.loop();
        this.k = loop.kernel();
        this.forward = forward;
        this.client = client;
        this.fd = fd;
        this.token = loop.register(fd, this);
        this.start = loop.now();
        this.lastActivity = start;
    }

    /** A connected backend socket for {@code client}, or null (logged) if the system refuses one. */
    static UdpSession open(UdpListener listener, Forward forward, SockAddr client) {
        ForwardingLoop fl = listener.forwardingLoop();
        Kernel k = fl.loop().kernel();
        SockAddr backend = forward.backends().get(0).address();
        int fd = k.socket(backend.isIpv6() ? Net.AF_INET6 : Net.AF_INET, Net.SOCK_DGRAM | Net.SOCK_NONBLOCK | Net.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            fl.log().error("udp client=" + client + ": socket: " + Errno.describe(fd));
            return null;
        }
        int rc = 0;
        if (forward.source() != null) rc = k.bind(fd, fl.addressBuffer(forward.source().withPort(0)));
        if (rc == 0) rc = k.connect(fd, fl.addressBuffer(backend));
        if (rc < 0) {
            k.close(fd);
            fl.log().error("udp client=" + client + " backend=" + backend + ": " + Errno.describe(rc));
            return null;
        }
        UdpSession s = new UdpSession(listener, forward, client, fd);
        rc = s.loop.setInterest(s.token, EPOLLIN);
        if (rc < 0) {
            // Unwatched, the session would forward the client's datagrams and never read a reply, while
            // that very traffic kept it from idling out: drop it, the client's next datagram tries again.
            s.loop.release(s.token, false);
            k.close(fd);
            fl.log().error("udp client=" + client + ": epoll_ctl: " + Errno.describe(rc));
            return null;
        }
        s.armTimer();
        return s;
    }

    /** A datagram from the client: pass it to the backend (dropped if the socket buffer is full). */
    void toBackend(long buf, int len) {
        int n = k.send(fd, buf, len);
        if (n < 0) {
            listener.stats().datagramsDropped++;
            return;
        }
        up += n;
        lastActivity = loop.now();
    }

    /** Replies from the backend, each sent to this session's client through the listening socket. */
    @Override
    public void onEvent(int events) {
        long buf = fl.datagramBuffer();
        for (int i = 0; i < UdpListener.DATAGRAMS_PER_WAKEUP; i++) {
            int n = k.recvfrom(fd, buf, ForwardingLoop.DATAGRAM_MAX, 0);
            if (n == -Errno.EAGAIN) return;
            if (n < 0) {
                // ECONNREFUSED: an ICMP port unreachable for an earlier datagram. The backend may come back.
                listener.stats().datagramsDropped++;
                continue;
            }
            if (n > ForwardingLoop.DATAGRAM_MAX) {
                listener.stats().datagramsDropped++;
                continue;
            }
            if (listener.reply(buf, n, client)) {
                down += n;
                lastActivity = loop.now();
            }
        }
    }

    @Override
    public void onFailure(RuntimeException e) {
        close(EndReason.ERROR);
    }

    private void armTimer() {
        loop.schedule(this, lastActivity + timeoutNanos());
    }

    private long timeoutNanos() {
        int sec = forward.udpTimeoutSec() > 0 ? forward.udpTimeoutSec() : fl.settings().udpTimeoutSec();
        return sec * 1_000_000_000L;
    }

    @Override
    protected void onTimer(long now) {
        if (now - lastActivity >= timeoutNanos()) close(EndReason.IDLE_TIMEOUT);
        else armTimer();
    }

    void close(EndReason reason) {
        if (closed) return;
        closed = true;
        loop.cancel(this);
        loop.release(token, false);
        k.close(fd);
        listener.sessionClosed(this, reason);
    }

    long millis() {
        return (loop.now() - start) / 1_000_000;
    }
}
