package org.epollproxy.forward;

import static org.epollproxy.shim.Epoll.EPOLLERR;
import static org.epollproxy.shim.Epoll.EPOLLHUP;
import static org.epollproxy.shim.Epoll.EPOLLIN;
import static org.epollproxy.shim.Epoll.EPOLLOUT;

import org.epollproxy.loop.EventLoop;
import org.epollproxy.loop.Timer;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.Net;
import org.epollproxy.shim.SockAddr;

/**
 * A client connection and its backend connection: the forwarding state machine.
 *
 * <pre>
 *   client --A--> [up: client -> backend] --B--> backend
 *   client <--A-- [down: backend -> client] <--B-- backend
 * </pre>
 *
 * <ul>
 *   <li>IN on X, X's direction empty: recv into a pool buffer and send to the peer at once. All sent:
 *       the buffer goes back to the pool. Partial or -EAGAIN: keep the rest, watch the peer for OUT and
 *       stop reading X (backpressure).
 *   <li>OUT on X: send what waits for X; once empty drop OUT and read the peer again.
 *   <li>recv 0 (FIN) on X: once the direction drained, shutdown(peer, SHUT_WR); the other direction
 *       goes on. Both directions finished: close both.
 *   <li>recv/send error: abort, the other side closed with SO_LINGER 0 (RST) so the error shows end to end.
 * </ul>
 *
 * The interest mask of each socket is derived from this state after every event ({@link #maskFor}),
 * and the loop calls epoll_ctl only when it changes. The pair is also its own timer (connect, idle and
 * FIN timeouts), re-armed lazily so activity costs a field write, not a heap update.
 */
final class Pair extends Timer {
    /** At most this many full-buffer recvs per readiness event, so one busy pair cannot starve the loop. */
    static final int READS_PER_EVENT = 4;

    private final Forwarder fw;
    private final EventLoop loop;
    private final Kernel k;
    final TcpListener listener;
    final SockAddr clientAddr;
    final Side client = new Side(this, true);
    final Side backend = new Side(this, false);
    final Direction up = new Direction(client, backend);
    final Direction down = new Direction(backend, client);
    final long startNanos;
    /** Index in the forwarder's pair table, for O(1) removal. */
    int index = -1;
    /** The backend being tried or used, as an index into the forward's backends. */
    int backendIndex = -1;
    boolean connecting;
    boolean closed;
    private long connectStart;
    private long lastActivity;
    /** When the first FIN was seen (0 = none yet): the start of the half-closed state. */
    private long finSince;
    /** The direction whose FIN came first, for the log's "client-closed" / "backend-closed". */
    private Direction firstFin;

    Pair(Forwarder fw, TcpListener listener, int clientFd, SockAddr clientAddr) {
        this.fw = fw;
        this.loop = fw.loop();
        this.k = loop.kernel();
        this.listener = listener;
        this.clientAddr = clientAddr;
        this.startNanos = loop.now();
        this.lastActivity = startNanos;
        client.in = up;
        client.out = down;
        backend.in = down;
        backend.out = up;
        client.fd = clientFd;
        client.token = loop.register(clientFd, client);
    }

    // ---- connecting ----

    /** Starts a non-blocking connect to backend {@code i}; on failure tries the next one. */
    void connect(int i) {
        Forward f = listener.forward();
        if (i >= f.backends().size()) return; // caller decided; see connectFailed
        backendIndex = i;
        SockAddr addr = f.backends().get(i).address();
        int fd = k.socket(addr.isIpv6() ? Net.AF_INET6 : Net.AF_INET,
                Net.SOCK_STREAM | Net.SOCK_NONBLOCK | Net.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            close(EndReason.ERROR, fd);
            return;
        }
        backend.fd = fd;
        backend.token = loop.register(fd, backend);
        fw.tuneSocket(fd);
        int rc = k.connect(fd, fw.addressBuffer(addr));
        if (rc == 0) {
            connected();
        } else if (rc == -Errno.EINPROGRESS || rc == -Errno.EALREADY) {
            connecting = true;
            connectStart = loop.now();
            if (!setInterest(backend, EPOLLOUT)) return;
            setInterest(client, maskFor(client));
            armTimer();
        } else {
            connectFailed(rc, false);
        }
    }

    private void onConnectEvent(int events) {
        // A failed connect is reported with EPOLLERR (ConnectTest); OUT alone means established, so
        // SO_ERROR is read only when something went wrong: one getsockopt less per connection.
        if ((events & (EPOLLERR | EPOLLHUP)) == 0) {
            if ((events & EPOLLOUT) != 0) connected();
            return;
        }
        int err = k.sock_error(backend.fd);
        if (err == 0 && (events & EPOLLHUP) != 0) err = -Errno.ENOTCONN; // HUP without an error: not connected
        if (err == 0 && (events & EPOLLOUT) != 0) {
            connected();
        } else if (err != 0) {
            connectFailed(err, false);
        }
    }

    private void connected() {
        connecting = false;
        lastActivity = loop.now();
        listener.stats.connected++;
        // Bytes the client sent while we were connecting wait in `up`; so may its FIN.
        if (up.pending() && !flush(up)) return;
        if (up.eof && !up.finSent && !sendFin(up)) return;
        afterIo();
    }

    /** Closes the failed backend socket and tries the next backend, or ends the pair. */
    private void connectFailed(int err, boolean timedOut) {
        closeSide(backend);
        connecting = false;
        listener.stats.connectFailures++;
        fw.logBackendFailure(this, listener.forward().backends().get(backendIndex), err, timedOut);
        if (backendIndex + 1 < listener.forward().backends().size()) {
            connect(backendIndex + 1);
            return;
        }
        EndReason r = timedOut ? EndReason.CONNECT_TIMEOUT
                : err == -Errno.ECONNREFUSED ? EndReason.BACKEND_REFUSED : EndReason.BACKEND_UNREACHABLE;
        close(r, err);
    }

    // ---- forwarding ----

    void onEvent(Side s, int events) {
        if (closed) return;
        if (s == backend && connecting) {
            onConnectEvent(events);
            return;
        }
        // ERR/HUP count as both readable and writable: the next recv/send reports the cause.
        boolean failed = (events & (EPOLLERR | EPOLLHUP)) != 0;
        if (((events & EPOLLOUT) != 0 || failed) && s.out.pending() && !flush(s.out)) return;
        if (((events & EPOLLIN) != 0 || failed) && s.in.wantsRead() && !read(s.in)) return;
        afterIo();
    }

    /**
     * recv from d.from and an immediate send to d.to. A recv that filled the whole buffer, all of it
     * sent on, is followed by another recv (up to {@link #READS_PER_EVENT}): the socket most likely
     * holds more, and reading it now saves an epoll_wait per buffer in bulk transfers. Returns false
     * if the pair closed.
     */
    private boolean read(Direction d) {
        for (int i = 1; ; i++) {
            int n = readOnce(d);
            if (n < 0) return false;
            if (n < fw.pool().bufferSize() || d.pending() || d.eof || i == READS_PER_EVENT) return true;
        }
    }

    /** One recv and send: the bytes read (0 for EOF or EAGAIN), or -1 if the pair closed. */
    private int readOnce(Direction d) {
        BufferPool pool = fw.pool();
        long buf = pool.take();
        int n = k.recv(d.from.fd, buf, pool.bufferSize());
        if (n > 0) {
            d.buf = buf;
            d.start = 0;
            d.end = n;
            d.bytesIn += n;
            lastActivity = loop.now();
            if (d.to == backend && connecting) return n; // sent once connected
            return flush(d) ? n : -1;
        }
        pool.give(buf);
        if (n == 0) {
            d.eof = true;
            if (finSince == 0) {
                finSince = loop.now();
                firstFin = d;
                armTimer();
            }
            if (d.to == backend && connecting) return 0; // FIN forwarded once connected
            return sendFin(d) ? 0 : -1;
        }
        if (n == -Errno.EAGAIN) {
            fw.stats().eagainRecv++;
            return 0;
        }
        abort(d.from, n);
        return -1;
    }

    /** Sends what d holds to d.to; FIN follows once drained if d.from sent one. False if the pair closed. */
    private boolean flush(Direction d) {
        while (d.start < d.end) {
            int n = k.send(d.to.fd, d.buf + d.start, d.end - d.start);
            if (n < 0) {
                if (n == -Errno.EAGAIN) {
                    fw.stats().eagainSend++;
                    return true;
                }
                abort(d.to, n);
                return false;
            }
            d.start += n;
            d.bytesOut += n;
            lastActivity = loop.now();
            if (d.start < d.end) { // partial send: the socket buffer is full, wait for OUT
                fw.stats().partialSends++;
                return true;
            }
        }
        fw.pool().give(d.buf);
        d.buf = 0;
        d.start = d.end = 0;
        return !d.eof || d.finSent || sendFin(d);
    }

    /** shutdown(d.to, SHUT_WR): passes d.from's FIN on. False if the pair closed. */
    private boolean sendFin(Direction d) {
        d.finSent = true;
        // The other direction already ended: the pair closes right after this (afterIo), and close()
        // sends the FIN itself, gracefully, since d.to's EOF was read and nothing is left unread there.
        if ((d == up ? down : up).finSent) return true;
        int rc = k.shutdown(d.to.fd, Net.SHUT_WR);
        if (rc < 0) {
            abort(d.to, rc);
            return false;
        }
        return true;
    }

    /** After each event: close if both directions finished, else bring both interest masks up to date. */
    private void afterIo() {
        if (up.done() && down.done()) {
            close(firstFin == up ? EndReason.CLIENT_CLOSED : EndReason.BACKEND_CLOSED, 0);
            return;
        }
        if (setInterest(client, maskFor(client))) setInterest(backend, maskFor(backend));
    }

    /** The epoll interest a side needs in the current state. */
    int maskFor(Side s) {
        if (s == backend && connecting) return EPOLLOUT;
        if (s.fd < 0) return 0;
        int m = 0;
        if (s.in.wantsRead()) m |= EPOLLIN;
        if (s.out.pending()) m |= EPOLLOUT;
        return m;
    }

    private boolean setInterest(Side s, int mask) {
        if (s.fd < 0) return true;
        int rc = loop.setInterest(s.token, mask);
        if (rc < 0) {
            close(EndReason.ERROR, rc);
            return false;
        }
        return true;
    }

    // ---- timers ----

    private long nextDeadline() {
        Settings st = fw.settings();
        if (connecting) return connectStart + st.connectTimeoutMs * 1_000_000L;
        long d = Long.MAX_VALUE;
        if (st.idleTimeoutSec > 0) d = lastActivity + st.idleTimeoutSec * 1_000_000_000L;
        if (finSince != 0 && st.finTimeoutSec > 0) d = Math.min(d, finSince + st.finTimeoutSec * 1_000_000_000L);
        return d;
    }

    /** Schedules the earliest deadline unless an earlier wakeup is already set (it re-arms on firing). */
    private void armTimer() {
        long d = nextDeadline();
        if (d == Long.MAX_VALUE) {
            loop.cancel(this);
        } else if (!isScheduled() || d - deadline() < 0) {
            loop.schedule(this, d);
        }
    }

    @Override
    protected void onTimer(long now) {
        if (closed) return;
        Settings st = fw.settings();
        if (connecting) {
            if (now - connectStart >= st.connectTimeoutMs * 1_000_000L) {
                connectFailed(-Errno.ETIMEDOUT, true);
                return;
            }
        } else if (st.idleTimeoutSec > 0 && now - lastActivity >= st.idleTimeoutSec * 1_000_000_000L) {
            close(EndReason.IDLE_TIMEOUT, 0);
            return;
        } else if (finSince != 0 && st.finTimeoutSec > 0 && now - finSince >= st.finTimeoutSec * 1_000_000_000L) {
            close(EndReason.FIN_TIMEOUT, 0);
            return;
        }
        armTimer();
    }

    // ---- ending ----

    /** A recv/send/shutdown on {@code failed} returned an error: RST the other side and close both. */
    private void abort(Side failed, int err) {
        Side other = failed == client ? backend : client;
        if (other.fd >= 0) k.set_linger(other.fd, 1, 0);
        close(failed == client ? EndReason.CLIENT_RESET : EndReason.BACKEND_RESET, err);
    }

    /** A handler threw: the loop logged it; drop this pair with RSTs, the loop serves on. */
    void fail(RuntimeException e) {
        if (closed) return;
        if (client.fd >= 0) k.set_linger(client.fd, 1, 0);
        if (backend.fd >= 0) k.set_linger(backend.fd, 1, 0);
        close(EndReason.ERROR, 0);
    }

    /** Closes both sockets exactly once, returns buffers to the pool and reports the end. */
    void close(EndReason reason, int err) {
        if (closed) return;
        closed = true;
        loop.cancel(this);
        BufferPool pool = fw.pool();
        if (up.buf != 0) pool.give(up.buf);
        if (down.buf != 0) pool.give(down.buf);
        up.buf = down.buf = 0;
        up.start = up.end = down.start = down.end = 0;
        closeSide(client);
        closeSide(backend);
        fw.pairClosed(this, reason, err);
    }

    /** Shutdown of the proxy: close with RST so clients learn at once; nothing is half-done quietly. */
    void abortForShutdown() {
        if (closed) return;
        if (client.fd >= 0) k.set_linger(client.fd, 1, 0);
        if (backend.fd >= 0) k.set_linger(backend.fd, 1, 0);
        close(EndReason.SHUTDOWN, 0);
    }

    private void closeSide(Side s) {
        if (s.fd < 0) return;
        loop.release(s.token, false);
        k.close(s.fd);
        s.fd = -1;
    }

    Backend currentBackend() {
        return backendIndex < 0 ? null : listener.forward().backends().get(backendIndex);
    }

    long durationNanos(long now) {
        return now - startNanos;
    }
}
