package org.epollproxy.forward.tcp;

import static org.epollproxy.shim.Epoll.EPOLLERR;
import static org.epollproxy.shim.Epoll.EPOLLHUP;
import static org.epollproxy.shim.Epoll.EPOLLOUT;

import org.epollproxy.forward.EndReason;
import org.epollproxy.forward.Sockets;
import org.epollproxy.forward.balance.BackendGroup;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.Net;
import org.epollproxy.shim.SockAddr;

/**
 * The connect phase of a {@link Pair}: a non-blocking connect to the backend the forward's balance policy
 * picks ({@link BackendGroup#pick}: never one marked down), another pick after a refusal, an error or the
 * connect timeout, and the wait for an fd when the process has none left for the backend socket. When it
 * succeeds it hands over to {@link Pair#connected}; when every backend it may try failed it ends the pair
 * with the reason of the last failure, and when none may be tried at all, at once with {@code no-backend}.
 */
final class Connector {
    private final Pair p;
    /** The backend being tried or used, as an index into the forward's backends; -1 before the first. */
    int backendIndex = -1;
    /** Bit i: backend i was tried by this connection. */
    private long tried;
    /** The backend at backendIndex counts this connection as open (until release). */
    private boolean assigned;
    /** Waiting for the connect, or for an fd to make the backend socket with. */
    boolean connecting;
    private long connectStart;
    /** While waiting for an fd for the backend socket (see parkForFd): when to try again; else 0. */
    private long retryAt;

    Connector(Pair p) {
        this.p = p;
    }

    /** The client was accepted: connect to the backend the policy picks, or end at once if every one is down. */
    void start() {
        int i = p.group.pick(p.clientAddr, tried, p.listener.forwardingLoop().loop().now());
        if (i < 0) {
            PairEnd.close(p, EndReason.NO_BACKEND, 0);
            return;
        }
        connect(i);
    }

    /** Starts a non-blocking connect to backend {@code i}; on failure tries the next pick. */
    private void connect(int i) {
        if (!assigned || backendIndex != i) {
            release();
            backendIndex = i;
            tried |= 1L << i;
            p.group.assign(i);
            assigned = true;
        }
        SockAddr addr = p.forward.backends().get(i).address();
        var k = p.kernel();
        int fd = k.socket(addr.socketFamily(),
                Net.SOCK_STREAM | Net.SOCK_NONBLOCK | Net.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            if ((fd == -Errno.EMFILE || fd == -Errno.ENFILE) && parkForFd(fd)) return;
            PairEnd.close(p, EndReason.ERROR, fd);
            return;
        }
        unpark();
        var fl = p.listener.forwardingLoop();
        p.backend.fd = fd;
        p.backend.token = fl.loop().register(fd, p.backend);
        if (!addr.isUnix()) Sockets.tuneStream(k, fd, fl.settings());
        int rc = 0;
        if (p.forward.source() != null && !addr.isUnix()) rc = k.bind(fd, fl.addressBuffer(p.forward.source().withPort(0)));
        if (rc == 0) rc = k.connect(fd, fl.addressBuffer(addr));
        if (rc == 0) {
            succeeded();
        } else if (rc == -Errno.EINPROGRESS || rc == -Errno.EALREADY) {
            connecting = true;
            connectStart = fl.loop().now();
            if (addr.isLoopback() && sendWhileConnecting()) return;
            if (!p.setInterest(p.backend, EPOLLOUT)) return;
            p.setInterest(p.client, p.maskFor(p.client));
            p.armTimer();
        } else {
            failed(rc, false);
        }
    }

    /**
     * Speculative send, right after a connect to a loopback address answered EINPROGRESS: there the
     * handshake is over before connect() returns (the SYN, SYN-ACK and ACK all pass through the loopback
     * device in that call), so sending what the client sent already usually succeeds, and that success is
     * the proof of the connect: no EPOLLOUT to wait for, no MOD from OUT to IN, one epoll round less. A
     * socket still in SYN-SENT answers -EAGAIN (the connect goes on as usual); a refused one answers the
     * connect's error, which goes down exactly the path EPOLLERR would take ({@link #failed}: failover with
     * the bytes, which a failed send leaves in {@code up}, the backend's failure count, the end line).
     * Not with backend TLS (its handshake comes first), nor with nothing to send. True if the connect is
     * settled (connected, or failed and handled).
     */
    private boolean sendWhileConnecting() {
        if (p.forward.backendTls() != null || !p.up.pending()) return false;
        int n = p.up.drain();
        var counters = p.listener.forwardingLoop().counters();
        if (n == -Errno.EAGAIN) {
            counters.speculativeSendMisses++;
            return false;
        }
        counters.speculativeSendHits++;
        if (n < 0) {
            failed(n, false);
            return true;
        }
        succeeded();
        return true;
    }

    /**
     * Out of fds for the backend socket of a client already accepted. Dropping the client would turn a
     * moment of fd shortage into a refused connection (and, with one fd to spare, every other waiting
     * client would be accepted and dropped in turn). Instead the client waits here, as if the connect were
     * pending (its bytes and FIN wait in {@code up}), socket() is retried after each back-off, and the
     * listener accepts nobody else meanwhile, so the fds the next closing connection frees come here first.
     * Returns false (give up) once the connect timeout has passed.
     */
    private boolean parkForFd(int err) {
        var fl = p.listener.forwardingLoop();
        long now = fl.loop().now();
        if (retryAt == 0) {
            connectStart = now;
            p.listener.parked(+1);
        }
        retryAt = now + TcpListener.BACKOFF_MS * 1_000_000L;
        if (now - connectStart >= fl.settings().connectTimeoutMs() * 1_000_000L) return false;
        connecting = true;
        p.listener.pauseForFds(err);
        if (p.setInterest(p.client, p.maskFor(p.client))) p.armTimer();
        return true;
    }

    /** The pair has its backend socket (or ends): no longer waiting for an fd. */
    void unpark() {
        if (retryAt == 0) return;
        retryAt = 0;
        p.listener.parked(-1);
    }

    /** An event on the backend socket while connecting. */
    void onEvent(int events) {
        // A failed connect is reported with EPOLLERR (ConnectTest); OUT alone means established, so
        // SO_ERROR is read only when something went wrong: one getsockopt less per connection.
        if ((events & (EPOLLERR | EPOLLHUP)) == 0) {
            if ((events & EPOLLOUT) != 0) succeeded();
            return;
        }
        int err = p.kernel().sock_error(p.backend.fd);
        if (err == 0 && (events & EPOLLHUP) != 0) err = -Errno.ENOTCONN; // HUP without an error: not connected
        if (err == 0 && (events & EPOLLOUT) != 0) {
            succeeded();
        } else if (err != 0) {
            failed(err, false);
        }
    }

    /** When the pair's timer must fire while connecting: the next fd retry, or the connect timeout. */
    long deadline() {
        return retryAt != 0 ? retryAt
                : connectStart + p.listener.forwardingLoop().settings().connectTimeoutMs() * 1_000_000L;
    }

    /** The pair's timer fired while connecting; true if it acted (else the pair re-arms). */
    boolean onTimer(long now) {
        if (retryAt != 0) {
            if (now - retryAt >= 0) retryAfterPark(now); // another try at the backend socket
            else p.armTimer();
            return true;
        }
        if (now - connectStart >= p.listener.forwardingLoop().settings().connectTimeoutMs() * 1_000_000L) {
            failed(-Errno.ETIMEDOUT, true);
            return true;
        }
        return false;
    }

    /**
     * The back-off for an fd is over: try again, unless the backend was marked down meanwhile (by other
     * connections' failures or a check); then this connection, which never tried it, picks again.
     */
    private void retryAfterPark(long now) {
        if (p.group.state(backendIndex).usable(now)) {
            connect(backendIndex);
            return;
        }
        release();
        tried &= ~(1L << backendIndex);
        int i = p.group.pick(p.clientAddr, tried, now);
        if (i < 0) {
            PairEnd.close(p, EndReason.NO_BACKEND, 0);
            return;
        }
        connect(i);
    }

    /**
     * The backend accepted. With backend TLS the connect phase goes on through the TLS handshake
     * ({@link PairTls#startBackendTls}): client bytes keep waiting and the connect timeout keeps counting.
     */
    private void succeeded() {
        if (p.forward.backendTls() != null && p.backend.tls == null) {
            p.pairTls.startBackendTls(p.forward.backends().get(backendIndex));
            return;
        }
        established();
    }

    /** Connected (and, with backend TLS, the handshake done): forwarding starts. */
    void established() {
        connecting = false;
        p.group.connected(backendIndex, p.listener.forwardingLoop().log());
        p.connected();
    }

    /** The connection no longer holds its backend (it failed, or the pair ends). */
    void release() {
        if (!assigned) return;
        assigned = false;
        p.group.release(backendIndex);
    }

    /** Closes the failed backend socket and tries the next pick, or ends the pair. */
    private void failed(int err, boolean timedOut) {
        if (p.backend.tls != null && p.pairTls.backendTlsWhy == null) {
            p.pairTls.backendTlsWhy = timedOut ? "no backend TLS handshake within --connect-timeout" : null;
            if (timedOut) p.forward.backendTls().metrics().handshakeFailed(org.epollproxy.forward.tls.TlsMetrics.TIMEOUT);
        }
        PairEnd.closeSide(p, p.backend);
        connecting = false;
        release();
        p.stats().connectFailures++;
        var fl = p.listener.forwardingLoop();
        p.group.failed(backendIndex, fl.loop().now(), timedOut ? "connect timeout" : Errno.describe(err), fl.log());
        int next = p.group.pick(p.clientAddr, tried, fl.loop().now());
        logBackendFailure(err, timedOut, next);
        if (next >= 0) {
            connect(next);
            return;
        }
        EndReason r = timedOut ? EndReason.CONNECT_TIMEOUT
                : err == -Errno.ECONNREFUSED ? EndReason.BACKEND_REFUSED : EndReason.BACKEND_UNREACHABLE;
        PairEnd.close(p, r, err);
    }

    /** A failed connect with another backend to try ({@code next} >= 0); the end line says it all otherwise. */
    private void logBackendFailure(int err, boolean timedOut, int next) {
        if (next < 0) return;
        p.listener.forwardingLoop().log().info("tcp client=" + p.clientAddr + " backend " + p.forward.backends().get(backendIndex) + " failed: "
                + (timedOut ? "connect timeout" : Errno.describe(err)) + "; trying " + p.forward.backends().get(next));
    }
}
