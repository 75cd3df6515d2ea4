package org.epollproxy.forward.udp;

import static org.epollproxy.shim.Epoll.EPOLLIN;

import org.epollproxy.forward.Connection;
import org.epollproxy.forward.ConnectionInfo;
import org.epollproxy.forward.EndReason;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.ForwardStats;
import org.epollproxy.forward.ForwardingLoop;
import org.epollproxy.forward.PortQuarantine;
import org.epollproxy.loop.EventLoop;
import org.epollproxy.loop.Handler;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.Net;
import org.epollproxy.shim.SockAddr;

/**
 * One UDP client address and its own backend socket, connect()ed to the backend so the kernel delivers
 * only the backend's replies to it; each reply goes back through the listening socket to this client and
 * to no one else. It is an open connection of its loop like a TCP pair (listed, its bytes counted live,
 * its end logged and counted by reason), but not toward --max-connections.
 *
 * <p>It ends after the idle timeout, when evicted as the oldest at the session cap, when the backend
 * answers with ICMP port unreachable ({@code backend-refused}), or at shutdown. Its socket then stays open
 * in quarantine ({@link PortQuarantine#NANOS}, or until its listener's quarantine is full): a late reply
 * is read and dropped there, counted in {@code lateReplies}, and the port cannot go to a new session,
 * whose client would otherwise receive it. It is its own timer: idle while open, quarantine after.
 */
final class UdpSession extends Connection implements Handler {
    /** Sockets tried per new session when the kernel hands back ports still in quarantine. */
    private static final int PORT_TRIES = 16;

    private final UdpListener listener;
    private final ForwardingLoop fl;
    private final EventLoop loop;
    private final Kernel k;
    final Forward forward;
    final SockAddr client;
    final int fd;
    private final int localPort;
    private final long token;
    private final long start;
    private long lastActivity;
    /** Its socket's own address (what the backend sees), as /connections shows it; null until asked. */
    private String local;
    long up;
    long down;
    /** When the session ended (its socket is in quarantine since); -1 while open. */
    private long endedAt = -1;
    private boolean released;

    private UdpSession(UdpListener listener, Forward forward, SockAddr client, int fd, int localPort) {
        this.listener = listener;
        this.fl = listener.forwardingLoop();
        this.loop = fl.loop();
        this.k = loop.kernel();
        this.forward = forward;
        this.client = client;
        this.fd = fd;
        this.localPort = localPort;
        this.token = loop.register(fd, this);
        this.start = loop.now();
        this.lastActivity = start;
    }

    /** A connected backend socket for {@code client}, or null (logged) if the system refuses one. */
    static UdpSession open(UdpListener listener, Forward forward, SockAddr client) {
        ForwardingLoop fl = listener.forwardingLoop();
        Kernel k = fl.loop().kernel();
        int[] rejected = new int[PORT_TRIES];
        int nRejected = 0;
        int fd = -1;
        int port = -1;
        try {
            while (true) {
                fd = connectedSocket(listener, forward, client);
                if (fd < 0) return null;
                port = localPort(fl, fd);
                if (port < 0 || !fl.portQuarantine().held(port, fl.loop().now())) break;
                // A port whose session ended moments ago: its late replies would come here. Keep this
                // socket open while asking again, so that the kernel cannot hand the same port back.
                if (nRejected == PORT_TRIES) {
                    k.close(fd);
                    listener.noPort(client);
                    return null;
                }
                rejected[nRejected++] = fd;
            }
        } finally {
            for (int i = 0; i < nRejected; i++) k.close(rejected[i]);
        }
        UdpSession s = new UdpSession(listener, forward, client, fd, port);
        int rc = s.loop.setInterest(s.token, EPOLLIN);
        if (rc < 0) {
            // Unwatched, the session would forward the client's datagrams and never read a reply, while
            // that very traffic kept it from idling out: drop it, the client's next datagram tries again.
            s.loop.release(s.token, false);
            k.close(fd);
            listener.openFailed(client, "epoll_ctl: " + Errno.describe(rc));
            return null;
        }
        fl.opened(s);
        s.armTimer();
        return s;
    }

    private static int connectedSocket(UdpListener listener, Forward forward, SockAddr client) {
        ForwardingLoop fl = listener.forwardingLoop();
        Kernel k = fl.loop().kernel();
        SockAddr backend = forward.backends().get(0).address();
        int fd = k.socket(backend.isIpv6() ? Net.AF_INET6 : Net.AF_INET, Net.SOCK_DGRAM | Net.SOCK_NONBLOCK | Net.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            listener.openFailed(client, "socket: " + Errno.describe(fd));
            return fd;
        }
        int rc = 0;
        if (forward.source() != null) rc = k.bind(fd, fl.addressBuffer(forward.source().withPort(0)));
        if (rc == 0) rc = k.connect(fd, fl.addressBuffer(backend));
        if (rc < 0) {
            k.close(fd);
            listener.openFailed(client, "backend=" + backend + ": " + Errno.describe(rc));
            return rc;
        }
        return fd;
    }

    /** The local port connect() bound, or -1 if getsockname fails (then no quarantine check is possible). */
    private static int localPort(ForwardingLoop fl, int fd) {
        if (fl.loop().kernel().getsockname(fd, fl.scratch().address()) != 0) return -1;
        return SockAddr.read(fl.scratch().buffer(), 0).port();
    }

    /** A datagram from the client: pass it to the backend (dropped if the socket buffer is full). */
    void toBackend(long buf, int len) {
        int n = k.send(fd, buf, len);
        if (n < 0) {
            listener.stats().datagramsDropped++; // this datagram was not sent
            if (n == -Errno.ECONNREFUSED) end(EndReason.BACKEND_REFUSED, n); // ICMP for an earlier one, reported here
            return;
        }
        up += n;
        lastActivity = loop.now();
    }

    /** Replies from the backend, each sent to this session's client through the listening socket. */
    @Override
    public void onEvent(int events) {
        long buf = fl.datagramBuffer();
        int capacity = fl.datagramCapacity();
        for (int i = 0; i < UdpListener.DATAGRAMS_PER_WAKEUP && !released; i++) {
            int n = k.recvfrom(fd, buf, capacity, 0);
            if (n == -Errno.EAGAIN) return;
            if (endedAt >= 0) { // in quarantine: whatever comes is for a client that has gone
                if (n >= 0) listener.stats().lateReplies++;
                continue;
            }
            if (n < 0) {
                // ECONNREFUSED: an ICMP port unreachable for a datagram already counted as sent up.
                // It is lost: count it once, here, and end the session (the client's next datagram retries).
                listener.stats().datagramsDropped++;
                if (n == -Errno.ECONNREFUSED) end(EndReason.BACKEND_REFUSED, n);
                continue;
            }
            if (n > capacity) { // MSG_TRUNC gave the real length: never forward a cut datagram
                listener.stats().datagramsDropped++;
                listener.stats().datagramsTruncated++;
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
        end(EndReason.ERROR, 0);
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
        if (endedAt >= 0) listener.releaseQuarantined(this);
        else if (now - lastActivity >= timeoutNanos()) end(EndReason.IDLE_TIMEOUT, 0);
        else armTimer();
    }

    /** Ends the session (logged, counted); its socket goes to quarantine. */
    void end(EndReason reason, int errno) {
        if (endedAt >= 0 || released) return;
        endedAt = loop.now();
        loop.cancel(this);
        fl.portQuarantine().hold(localPort, endedAt);
        listener.sessionEnded(this, reason, errno);
        if (!released) loop.schedule(this, endedAt + PortQuarantine.NANOS);
    }

    /** Closes the socket for good (end of quarantine, a full quarantine, or shutdown). */
    void release() {
        if (released) return;
        released = true;
        loop.cancel(this);
        loop.release(token, false);
        k.close(fd);
    }

    boolean ended() {
        return endedAt >= 0;
    }

    long millis() {
        return (loop.now() - start) / 1_000_000;
    }

    // ---- as an open connection of the loop ----

    @Override
    public ForwardStats stats() {
        return listener.stats();
    }

    @Override
    public boolean countsTowardCap() {
        return false;
    }

    @Override
    public void addOpenBytes(ForwardStats into) {
        into.bytesUp += up;
        into.bytesDown += down;
    }

    @Override
    public ConnectionInfo info(EventLoop l) {
        if (local == null) local = fl.loop().kernel().getsockname(fd, fl.scratch().address()) == 0
                ? SockAddr.read(fl.scratch().buffer(), 0).toString() : "-";
        long now = l.now();
        return new ConnectionInfo(l.id(), forward.bind().toString(), client.toString(), forward.backends().get(0).toString(),
                local, "udp", now - start, now - lastActivity, up, down, 0, 0, listener.interest(), loop.interest(token), "datagram");
    }

    @Override
    public void abortForShutdown() {
        end(EndReason.SHUTDOWN, 0);
        release();
    }
}
