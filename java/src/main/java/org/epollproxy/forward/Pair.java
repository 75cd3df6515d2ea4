package org.epollproxy.forward;

import static org.epollproxy.shim.Epoll.EPOLLERR;
import static org.epollproxy.shim.Epoll.EPOLLHUP;
import static org.epollproxy.shim.Epoll.EPOLLIN;
import static org.epollproxy.shim.Epoll.EPOLLOUT;

import com.kenai.jffi.MemoryIO;
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
    /** At most this many full-buffer reads per readiness event, so one busy pair cannot starve the loop. */
    static final int READS_PER_EVENT = 4;

    private final Forwarder fw;
    private final EventLoop loop;
    private final Kernel k;
    final TcpListener listener;
    /** The forward as it was when the client arrived: a reload does not change an open connection. */
    final Forward forward;
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
    /** While waiting for an fd for the backend socket (see parkForFd): when to try again; else 0. */
    private long retryAt;
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
        this.forward = listener.forward();
        this.clientAddr = clientAddr;
        this.startNanos = loop.now();
        this.lastActivity = startNanos;
        client.in = up;
        client.out = down;
        backend.in = down;
        backend.out = up;
        client.fd = clientFd;
        client.token = loop.register(clientFd, client);
        if (fw.settings().splice) {
            up.pipe = new SplicePipe();
            down.pipe = new SplicePipe();
        }
        ProxyProtocol pp = forward.sendProxy();
        if (pp != ProxyProtocol.OFF) queueProxyHeader(pp);
    }

    /**
     * Puts the PROXY protocol header in {@code up}'s buffer: it is the first thing flushed once the
     * backend connects, and while it waits {@code up} is not empty, so no client byte is read before it.
     */
    private void queueProxyHeader(ProxyProtocol pp) {
        SockAddr dst = k.getsockname(client.fd, fw.scratchAddress()) == 0
                ? SockAddr.read(fw.scratch().buffer(), 0) : forward.bind();
        byte[] header = pp.header(clientAddr, dst);
        up.buf = fw.pool().take();
        MemoryIO.getInstance().putByteArray(up.buf, header, 0, header.length);
        up.start = 0;
        up.end = header.length;
        up.bufIsHeader = true;
    }

    // ---- connecting ----

    /** Starts a non-blocking connect to backend {@code i}; on failure tries the next one. */
    void connect(int i) {
        backendIndex = i;
        SockAddr addr = forward.backends().get(i).address();
        int fd = k.socket(addr.isIpv6() ? Net.AF_INET6 : Net.AF_INET,
                Net.SOCK_STREAM | Net.SOCK_NONBLOCK | Net.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            if ((fd == -Errno.EMFILE || fd == -Errno.ENFILE) && parkForFd(fd)) return;
            close(EndReason.ERROR, fd);
            return;
        }
        unpark();
        backend.fd = fd;
        backend.token = loop.register(fd, backend);
        fw.tuneSocket(fd);
        int rc = 0;
        if (forward.source() != null) rc = k.bind(fd, fw.addressBuffer(forward.source().withPort(0)));
        if (rc == 0) rc = k.connect(fd, fw.addressBuffer(addr));
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

    /**
     * Out of fds for the backend socket of a client already accepted. Dropping the client would turn a
     * moment of fd shortage into a refused connection (and, with one fd to spare, every other waiting
     * client would be accepted and dropped in turn). Instead the client waits here, as if the connect were
     * pending (its bytes and FIN wait in {@code up}), socket() is retried after each back-off, and the
     * listener accepts nobody else meanwhile, so the fds the next closing connection frees come here first.
     * Returns false (give up) once the connect timeout has passed.
     */
    private boolean parkForFd(int err) {
        long now = loop.now();
        if (retryAt == 0) {
            connectStart = now;
            listener.parked(+1);
        }
        retryAt = now + TcpListener.BACKOFF_MS * 1_000_000L;
        if (now - connectStart >= fw.settings().connectTimeoutMs * 1_000_000L) return false;
        connecting = true;
        listener.pauseForFds(err);
        if (setInterest(client, maskFor(client))) armTimer();
        return true;
    }

    /** The pair has its backend socket (or ends): no longer waiting for an fd. */
    private void unpark() {
        if (retryAt == 0) return;
        retryAt = 0;
        listener.parked(-1);
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
        listener.stats().connected++;
        armTimer(); // the connect deadline is over: cancel it, or move on to the idle deadline
        // Bytes the client sent while we were connecting wait in `up`; so may its FIN.
        if (up.pending() && !flush(up)) return;
        if (up.eof && !up.finSent && !sendFin(up)) return;
        afterIo();
    }

    /** Closes the failed backend socket and tries the next backend, or ends the pair. */
    private void connectFailed(int err, boolean timedOut) {
        closeSide(backend);
        connecting = false;
        listener.stats().connectFailures++;
        fw.logBackendFailure(this, forward.backends().get(backendIndex), err, timedOut);
        if (backendIndex + 1 < forward.backends().size()) {
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
     * Reads from d.from and sends to d.to at once. A read that filled the whole buffer, all of it sent
     * on, is followed by another (up to {@link #READS_PER_EVENT}): the socket most likely holds more,
     * and reading it now saves an epoll_wait per buffer in bulk transfers. False if the pair closed.
     */
    private boolean read(Direction d) {
        for (int i = 1; ; i++) {
            long before = d.bytesIn;
            if (!readOnce(d)) return false;
            if (d.bytesIn - before < fw.pool().bufferSize() || d.pending() || d.eof || i == READS_PER_EVENT) return true;
        }
    }

    /** One recv from d.from and an immediate send to d.to. Returns false if the pair closed. */
    private boolean readOnce(Direction d) {
        if (d.pipe != null) return spliceIn(d);
        BufferPool pool = fw.pool();
        long buf = pool.take();
        d.buf = buf; // owned by the direction at once, so close() returns it even if recv throws
        int n = k.recv(d.from.fd, buf, pool.bufferSize());
        if (n > 0) return received(d, n);
        d.buf = 0;
        pool.give(buf);
        return noBytes(d, n);
    }

    /**
     * The zero-copy read: splice(d.from -> pipe), then on to d.to. The pipe is empty here (we read only
     * when nothing waits), so -EAGAIN means no data. EINVAL (this socket cannot splice) or no pipe
     * (EMFILE) sends this direction down the copy path for the rest of the connection.
     */
    private boolean spliceIn(Direction d) {
        int n = d.pipe.fill(k, d.from.fd, fw.pool().bufferSize());
        if (n > 0) return received(d, n);
        if (n == -Errno.EINVAL || !d.pipe.isOpen()) {
            fallBackToCopy(d);
            return readOnce(d);
        }
        return noBytes(d, n);
    }

    /** n > 0 bytes now wait in d (buffer or pipe): send them on at once. */
    private boolean received(Direction d, int n) {
        d.start = 0;
        d.end = n;
        d.bytesIn += n;
        lastActivity = loop.now();
        if (d.to == backend && connecting) return true; // sent once connected
        return flush(d);
    }

    /** A read gave no bytes: 0 is d.from's FIN, -EAGAIN nothing now, anything else a failure. */
    private boolean noBytes(Direction d, int n) {
        if (n == 0) {
            d.eof = true;
            if (finSince == 0) {
                finSince = loop.now();
                firstFin = d;
                armTimer();
            }
            if (d.to == backend && connecting) return true; // FIN forwarded once connected
            return sendFin(d);
        }
        if (n == -Errno.EAGAIN) {
            fw.counters().eagainRecv++;
            return true;
        }
        abort(d.from, n);
        return false;
    }

    /** Sends what d holds to d.to; FIN follows once drained if d.from sent one. False if the pair closed. */
    private boolean flush(Direction d) {
        while (d.start < d.end) {
            int len = d.end - d.start;
            int n = d.buf != 0 ? k.send(d.to.fd, d.buf + d.start, len) : d.pipe.drain(k, d.to.fd, len);
            if (n < 0) {
                if (n == -Errno.EAGAIN) {
                    fw.counters().eagainSend++;
                    return true;
                }
                if (n == -Errno.EINVAL && d.buf == 0 && pipeToBuffer(d)) continue; // splice refused: copy it
                abort(d.to, n);
                return false;
            }
            d.start += n;
            if (!d.bufIsHeader) d.bytesOut += n;
            if (d.buf == 0) d.bytesSpliced += n;
            lastActivity = loop.now();
            if (d.start < d.end) { // partial send: the socket buffer is full, wait for OUT
                fw.counters().partialSends++;
                return true;
            }
        }
        if (d.buf != 0) {
            fw.pool().give(d.buf);
            d.buf = 0;
            d.bufIsHeader = false;
        }
        d.start = d.end = 0;
        return !d.eof || d.finSent || sendFin(d);
    }

    /** The copy path from now on for d: its pipe is closed (it was empty) and the fall back counted. */
    private void fallBackToCopy(Direction d) {
        d.pipe.close(k);
        d.pipe = null;
        listener.stats().spliceFallbacks++;
    }

    /**
     * splice(pipe -> d.to) was refused with bytes in the pipe: read them into a buffer (they fit, a fill
     * never exceeds the buffer size) and go on with the copy path. False if that failed too.
     */
    private boolean pipeToBuffer(Direction d) {
        BufferPool pool = fw.pool();
        long buf = pool.take();
        int len = d.end - d.start;
        if (d.pipe.readInto(k, buf, len) != len) {
            pool.give(buf);
            return false;
        }
        d.buf = buf;
        d.start = 0;
        d.end = len;
        fallBackToCopy(d);
        return true;
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
        if (connecting) return retryAt != 0 ? retryAt : connectStart + st.connectTimeoutMs * 1_000_000L;
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
        try {
            timeout(now);
        } catch (RuntimeException e) {
            fail(e); // the loop only logs a failed timer: end the pair, or it is left half-made
            throw e;
        }
    }

    private void timeout(long now) {
        Settings st = fw.settings();
        if (connecting) {
            if (retryAt != 0) {
                if (now - retryAt >= 0) connect(backendIndex); // another try at the backend socket
                else armTimer();
                return;
            }
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
        unpark();
        // Bytes read but not delivered (a timeout or shutdown while a peer was slow): a FIN would tell the
        // receiver its stream ended complete. An RST tells it the truth.
        if (up.pending() && backend.fd >= 0) k.set_linger(backend.fd, 1, 0);
        if (down.pending() && client.fd >= 0) k.set_linger(client.fd, 1, 0);
        BufferPool pool = fw.pool();
        if (up.buf != 0) pool.give(up.buf);
        if (down.buf != 0) pool.give(down.buf);
        up.buf = down.buf = 0;
        up.start = up.end = down.start = down.end = 0;
        if (up.pipe != null) up.pipe.close(k);
        if (down.pipe != null) down.pipe.close(k);
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
        return backendIndex < 0 ? null : forward.backends().get(backendIndex);
    }

    long durationNanos(long now) {
        return now - startNanos;
    }
}
