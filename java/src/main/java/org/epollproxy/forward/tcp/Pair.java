package org.epollproxy.forward.tcp;

import static org.epollproxy.shim.Epoll.EPOLLERR;
import static org.epollproxy.shim.Epoll.EPOLLHUP;
import static org.epollproxy.shim.Epoll.EPOLLIN;
import static org.epollproxy.shim.Epoll.EPOLLOUT;

import org.epollproxy.forward.Backend;
import org.epollproxy.forward.BufferPool;
import org.epollproxy.forward.ClientLimits;
import org.epollproxy.forward.Connection;
import org.epollproxy.forward.ConnectionInfo;
import org.epollproxy.forward.ConnectionRecord;
import org.epollproxy.forward.EndReason;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.ForwardStats;
import org.epollproxy.forward.ForwardingLoop;
import org.epollproxy.forward.PipePool;
import org.epollproxy.forward.ProxyProtocol;
import org.epollproxy.forward.Settings;
import org.epollproxy.forward.balance.BackendGroup;
import org.epollproxy.loop.EventLoop;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.Kernel;
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
 *   <li>IN on X, X's direction empty: fill it from X and drain it to the peer at once. All sent: the
 *       direction holds nothing again. Partial or -EAGAIN: keep the rest, watch the peer for OUT and
 *       stop reading X (backpressure).
 *   <li>OUT on X: drain what waits for X; once empty drop OUT and read the peer again.
 *   <li>fill 0 (FIN) on X: once the direction drained, shutdown(peer, SHUT_WR); the other direction
 *       goes on. Both directions finished: close both.
 *   <li>recv/send error: abort, the other side closed with SO_LINGER 0 (RST) so the error shows end to end.
 * </ul>
 *
 * How bytes wait (a pool buffer, or a splice pipe) is {@link Direction}'s business, so this reads the
 * same for both paths. The interest mask of each socket is derived from this state after every event
 * ({@link #maskFor}), and the loop calls epoll_ctl only when it changes. The pair is also its own timer
 * (connect, idle and FIN timeouts), re-armed lazily so activity costs a field write, not a heap update.
 */
final class Pair extends Connection {
    /** At most this many full-buffer reads per readiness event, so one busy pair cannot starve the loop. */
    static final int READS_PER_EVENT = 4;

    private final ForwardingLoop fl;
    private final EventLoop loop;
    private final Kernel k;
    final TcpListener listener;
    /** The forward as it was when the client arrived: a reload does not change an open connection. */
    final Forward forward;
    /** Its backends' live state (shared by every loop), which the connect phase picks from. */
    final BackendGroup group;
    /** The effective client: the peer's address, or the one its PROXY header announced (--accept-proxy). */
    final SockAddr clientAddr;
    /** The address the client connected to as its PROXY header announced it; null: this socket's own. */
    private final SockAddr announcedDestination;
    /** The client's entry in the per-client table, given back at close. */
    private final ClientLimits.Entry clientTicket;
    final Side client = new Side(this, true);
    final Side backend = new Side(this, false);
    final Direction up;
    final Direction down;
    final long startNanos;
    /** The connect phase: which backend, since when, waiting for an fd or for the connect. */
    final Connector connector = new Connector(this);
    boolean closed;
    /** The last byte moved either way, or the backend's accept: the idle timeout's clock. */
    long lastActivity;
    /** The proxy's address toward the backend once connected, as /connections shows it; null until asked. */
    String backendLocal;
    /** When the first FIN was seen (0 = none yet): the start of the half-closed state. */
    private long finSince;
    /** The direction whose FIN came first, for the log's "client-closed" / "backend-closed". */
    private Direction firstFin;

    /** With routes: the route that chose {@link #group} and what the client's first bytes said; else null. */
    final org.epollproxy.forward.Routed routed;

    /**
     * {@code group}: the backends to connect to (the listener's, or its route's); {@code destination}/{@code early}:
     * from the client's PROXY header (or null), {@code early} also the bytes read to choose the route;
     * {@code ticket}: its client-table entry.
     */
    Pair(TcpListener listener, BackendGroup group, org.epollproxy.forward.Routed routed, int clientFd, SockAddr clientAddr,
            SockAddr destination, byte[] early, ClientLimits.Entry ticket) {
        this(listener, group, routed, clientFd, clientAddr, destination, early, ticket, null);
    }

    /** {@code tls}: the client's finished TLS handshake (a terminating listener), or null. */
    Pair(TcpListener listener, BackendGroup group, org.epollproxy.forward.Routed routed, int clientFd, SockAddr clientAddr,
            SockAddr destination, byte[] early, ClientLimits.Entry ticket, org.epollproxy.forward.tls.TlsChannel tls) {
        this.fl = listener.forwardingLoop();
        this.loop = fl.loop();
        this.k = loop.kernel();
        this.listener = listener;
        this.group = group;
        this.routed = routed;
        this.forward = group.forward();
        this.clientAddr = clientAddr;
        this.announcedDestination = destination;
        this.clientTicket = ticket;
        this.startNanos = loop.now();
        this.lastActivity = startNanos;
        client.tls = tls;
        PipePool pipes = fl.settings().splice() && forward.backendTls() == null ? fl.pipes() : null; // TLS bytes pass through the engine
        up = new Direction(this, client, backend, pipes);
        down = new Direction(this, backend, client, pipes);
        client.in = up;
        client.out = down;
        backend.in = down;
        backend.out = up;
        client.fd = clientFd;
        ProxyProtocol pp = forward.sendProxy();
        // may throw OutOfBuffers: before register, nothing to undo
        if (pp != ProxyProtocol.OFF || (early != null && early.length > 0)) queueProxyHeader(pp, early == null ? new byte[0] : early);
        client.token = loop.register(clientFd, client);
    }

    /** The client as the rules, limits, logs, /connections, --send-proxy and backend choice name it. */
    SockAddr clientAddress() {
        return clientAddr;
    }

    Kernel kernel() {
        return k;
    }

    BufferPool pool() {
        return fl.pool();
    }

    @Override
    public ForwardStats stats() {
        return listener.stats();
    }

    /** The PROXY protocol header goes first into {@code up}, before any byte of the client (then {@code early}). */
    private void queueProxyHeader(ProxyProtocol pp, byte[] early) {
        SockAddr dst = announcedDestination;
        if (dst == null && pp != ProxyProtocol.OFF) {
            dst = k.getsockname(client.fd, fl.scratch().address()) == 0 ? SockAddr.read(fl.scratch().buffer(), 0) : forward.bind();
        }
        up.queueFirst(pp == ProxyProtocol.OFF ? new byte[0] : pp.header(clientAddr, dst, client.tls == null ? null : client.tls.proxyTlvs()), early);
    }

    /**
     * Speculative first read, before the backend connect starts and before any epoll_wait for this client:
     * most clients' first bytes (a request) arrived with or right after the handshake, so they are read
     * now and the connect can carry them (see {@link Connector}); this saves the round in which epoll would
     * report them. A client that says nothing first (SSH, SMTP: the server speaks first) costs one recv
     * answered EAGAIN, and is then watched for EPOLLIN as usual. Skipped when a phase before the pair read
     * the client already (PROXY header, pre-read for routes, TLS): its bytes wait in {@code up} first.
     */
    void readAtAccept() {
        if (client.tls != null || !up.wantsRead()) return;
        int n = up.fill();
        if (n >= 0) fl.counters().speculativeRecvHits++;
        if (n > 0) {
            lastActivity = loop.now();
        } else if (n == 0) { // connected and closed at once: its FIN goes to the backend once connected
            up.eof = true;
            finSince = loop.now();
            firstFin = up;
        } else if (n == -Errno.EAGAIN) {
            fl.counters().speculativeRecvMisses++;
        } else {
            abort(client, n); // reset before its first byte: nothing to connect for
        }
    }

    // ---- connected ----

    /** The backend accepted: forward what the client sent meanwhile, then both ways. */
    void connected() {
        lastActivity = loop.now();
        listener.stats().connected++;
        armTimer(); // the connect deadline is over: cancel it, or move on to the idle deadline
        // Bytes the client sent while we were connecting wait in `up`; so may its FIN.
        if (up.pending() && !flush(up)) return;
        if (up.eof && !up.finSent && !sendFin(up)) return;
        afterIo();
    }

    // ---- forwarding ----

    void onEvent(Side s, int events) {
        if (closed) return;
        if (s == backend && connector.connecting) {
            if (backend.tls != null) stepBackendTls();
            else connector.onEvent(events);
            return;
        }
        // ERR/HUP count as both readable and writable: the next recv/send reports the cause.
        boolean failed = (events & (EPOLLERR | EPOLLHUP)) != 0;
        if (((events & EPOLLOUT) != 0 || failed) && s.tls != null && s.tls.outputPending() && !flushTls(s)) return;
        if (((events & EPOLLOUT) != 0 || failed) && s.out.pending() && !flush(s.out)) return;
        if (((events & EPOLLIN) != 0 || failed) && s.in.wantsRead() && !read(s.in)) return;
        afterIo();
    }

    /**
     * Fills d from d.from and drains it to d.to at once. A fill of the whole buffer, all of it sent on,
     * is followed by another (up to {@link #READS_PER_EVENT}): the socket most likely holds more, and
     * reading it now saves an epoll_wait per buffer in bulk transfers. False if the pair closed.
     */
    private boolean read(Direction d) {
        for (int i = 1; ; i++) {
            int n = d.fill();
            if (n <= 0) return noBytes(d, n);
            lastActivity = loop.now();
            if (d.to == backend && connector.connecting) return true; // sent once connected
            if (!flush(d)) return false;
            if (n < fl.pool().bufferSize() || d.pending() || d.eof || i == READS_PER_EVENT) return true;
        }
    }

    /** A fill gave no bytes: 0 is d.from's FIN, -EAGAIN nothing now, anything else a failure. */
    private boolean noBytes(Direction d, int n) {
        if (n == 0) {
            d.eof = true;
            if (finSince == 0) {
                finSince = loop.now();
                firstFin = d;
                armTimer();
            }
            if (d.to == backend && connector.connecting) return true; // FIN forwarded once connected
            return sendFin(d);
        }
        if (n == -Errno.EAGAIN) {
            fl.counters().eagainRecv++;
            return true;
        }
        abort(d.from, n);
        return false;
    }

    /** Sends what d holds to d.to; FIN follows once drained if d.from sent one. False if the pair closed. */
    boolean flush(Direction d) {
        while (d.pending()) {
            int n = d.drain();
            if (n < 0) {
                if (n == -Errno.EAGAIN) {
                    fl.counters().eagainSend++;
                    return true;
                }
                abort(d.to, n);
                return false;
            }
            lastActivity = loop.now();
            if (d.pending()) { // partial send: the socket buffer is full, wait for OUT
                fl.counters().partialSends++;
                return true;
            }
        }
        return !d.eof || d.finSent || sendFin(d);
    }

    /** shutdown(d.to, SHUT_WR): passes d.from's FIN on. False if the pair closed. */
    boolean sendFin(Direction d) {
        d.finSent = true;
        // The other direction already ended: the pair closes right after this (afterIo), and close()
        // sends the FIN itself, gracefully, since d.to's EOF was read and nothing is left unread there.
        if ((d == up ? down : up).finSent) return true;
        int rc = d.shut();
        if (rc < 0) {
            abort(d.to, rc);
            return false;
        }
        return true;
    }

    /** After each event: close if both directions finished, else bring both interest masks up to date. */
    void afterIo() {
        if (up.done() && down.done()) {
            close(firstFin == up ? EndReason.CLIENT_CLOSED : EndReason.BACKEND_CLOSED, 0);
            return;
        }
        if (setInterest(client, maskFor(client))) setInterest(backend, maskFor(backend));
        if ((client.tls != null || backend.tls != null) && !closed) tlsInputCheck();
    }

    /** A read of the TLS client is queued on the loop (records wait decrypted-to-be, the socket will not tell). */
    private boolean tlsReadQueued;

    /**
     * Whole TLS records received but not yet decrypted (the buffer they were read for was full) wait in the
     * channel, and epoll will not report them again: read them on the loop's next turn.
     */
    private void tlsInputCheck() {
        if (tlsReadQueued) return;
        Side s = client.tls != null && up.wantsRead() && client.tls.inputReady() ? client
                : backend.tls != null && !connector.connecting && down.wantsRead() && backend.tls.inputReady() ? backend : null;
        if (s == null) return;
        tlsReadQueued = true;
        loop.execute(() -> {
            tlsReadQueued = false;
            if (!closed) onEvent(s, EPOLLIN);
        });
    }

    // ---- TLS to the backend ----

    /** What the backend's TLS handshake waits for (EPOLLIN, EPOLLOUT, or 0 while a task runs off the loop). */
    private int backendTlsMask;
    /** Why the backend's TLS failed, for the end line; null if it did not. */
    String backendTlsWhy;
    /** When the backend's TLS handshake began (loop clock), for its latency. */
    private long backendTlsStart;

    /** The backend accepted the connect: start TLS with it (still "connecting" for the rest of the pair). */
    void startBackendTls(Backend b) {
        backendTlsStart = loop.now();
        try {
            backend.tls = new org.epollproxy.forward.tls.TlsChannel(forward.backendTls().newEngine(b.host(), b.address().port()), k, pool(),
                    backend.fd, forward.backendTls().metrics());
        } catch (javax.net.ssl.SSLException e) {
            backendTlsFailed(e.getMessage());
            return;
        }
        stepBackendTls();
    }

    private void stepBackendTls() {
        int rc;
        try {
            rc = backend.tls.handshake();
        } catch (javax.net.ssl.SSLException e) {
            backend.tls.sendAlert();
            String why = String.valueOf(e.getMessage());
            if (e.getCause() != null && e.getCause().getMessage() != null && !why.contains(e.getCause().getMessage())) why += ": " + e.getCause().getMessage();
            backendTlsFailed(why);
            return;
        }
        switch (rc) {
            case org.epollproxy.forward.tls.TlsChannel.DONE -> {
                forward.backendTls().metrics().handshakeDone(loop.now() - backendTlsStart, false);
                if (fl.settings().trace()) fl.log().info("tls backend fd " + backend.fd + " handshake done: " + backend.tls.summary());
                connector.established();
            }
            case org.epollproxy.forward.tls.TlsChannel.WANT_READ -> backendMask(EPOLLIN);
            case org.epollproxy.forward.tls.TlsChannel.WANT_WRITE -> backendMask(EPOLLOUT);
            case org.epollproxy.forward.tls.TlsChannel.WANT_TASK -> {
                backendMask(0);
                org.epollproxy.forward.tls.TlsChannel engine = backend.tls;
                org.epollproxy.forward.tls.TlsTasks.run(engine, loop, () -> {
                    // only for that engine: a connect timeout meanwhile moves on to the next backend and its own
                    if (!closed && backend.tls == engine) stepBackendTls();
                });
            }
            case org.epollproxy.forward.tls.TlsChannel.PEER_CLOSED -> backendTlsFailed("the backend closed during the TLS handshake");
            default -> backendTlsFailed("the backend's socket failed during the TLS handshake: " + Errno.describe(rc));
        }
    }

    private void backendMask(int mask) {
        backendTlsMask = mask;
        setInterest(backend, mask);
    }

    /** The backend's TLS handshake failed (its certificate, its name, its protocol): the pair ends, said why. */
    private void backendTlsFailed(String why) {
        backendTlsWhy = why == null ? "backend TLS handshake failed" : why;
        forward.backendTls().metrics().handshakeFailed(org.epollproxy.forward.tls.TlsMetrics.backendReason(backendTlsWhy));
        if (client.fd >= 0) k.set_linger(client.fd, 1, 0);
        close(EndReason.BACKEND_TLS, 0);
    }

    /** The client came from a TLS handshake: records it sent right after it may already wait in the channel. */
    void afterTlsHandshake() {
        if (!closed) tlsInputCheck();
    }

    /** Sends the TLS records waiting for the socket of {@code s}. False if the pair closed. */
    private boolean flushTls(Side s) {
        int rc = s.tls.flush();
        if (rc == -Errno.EAGAIN) return true;
        if (rc < 0) {
            abort(s, rc);
            return false;
        }
        return true;
    }

    /** The epoll interest a side needs in the current state. */
    int maskFor(Side s) {
        if (s == backend && connector.connecting) return backend.tls != null ? backendTlsMask : EPOLLOUT;
        if (s.fd < 0) return 0;
        int m = 0;
        if (s.in.wantsRead()) m |= EPOLLIN;
        if (s.out.pending() || (s.tls != null && s.tls.outputPending())) m |= EPOLLOUT;
        return m;
    }

    boolean setInterest(Side s, int mask) {
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
        Settings st = fl.settings();
        if (connector.connecting) return connector.deadline();
        long d = Long.MAX_VALUE;
        if (st.idleTimeoutSec() > 0) d = lastActivity + st.idleTimeoutSec() * 1_000_000_000L;
        if (finSince != 0 && st.finTimeoutSec() > 0) d = Math.min(d, finSince + st.finTimeoutSec() * 1_000_000_000L);
        return d;
    }

    /** Schedules the earliest deadline unless an earlier wakeup is already set (it re-arms on firing). */
    void armTimer() {
        if (closed) return; // e.g. a setInterest that failed and closed the pair just before: no timer for the dead
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
        Settings st = fl.settings();
        if (connector.connecting) {
            if (connector.onTimer(now)) return;
        } else if (st.idleTimeoutSec() > 0 && now - lastActivity >= st.idleTimeoutSec() * 1_000_000_000L) {
            close(EndReason.IDLE_TIMEOUT, 0);
            return;
        } else if (finSince != 0 && st.finTimeoutSec() > 0 && now - finSince >= st.finTimeoutSec() * 1_000_000_000L) {
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
        if (failed.tls != null && failed.tls.failure() != null) {
            failed.tls.sendAlert();
            close(EndReason.TLS_ERROR, 0);
            return;
        }
        close(failed == client ? EndReason.CLIENT_RESET : EndReason.BACKEND_RESET, err);
    }

    /**
     * A handler threw: the loop logged it; drop this pair with RSTs, the loop serves on. No memory for a
     * buffer ({@link BufferPool.OutOfBuffers}) ends the pair the same way, counted, with errno=ENOMEM.
     */
    void fail(RuntimeException e) {
        if (e instanceof BufferPool.OutOfBuffers) {
            fl.counters().bufferAllocFailures++;
            resetBoth(EndReason.ERROR, -Errno.ENOMEM);
            return;
        }
        resetBoth(EndReason.ERROR, 0);
    }

    /** Shutdown of the proxy: close with RST so clients learn at once; nothing is half-done quietly. */
    @Override
    public void abortForShutdown() {
        resetBoth(EndReason.SHUTDOWN, 0);
    }

    @Override
    public boolean resetIfUsing(Object state) {
        if (closed || connector.backendIndex < 0 || group.state(connector.backendIndex) != state) return false;
        resetBoth(EndReason.BACKEND_DISABLED, 0);
        return true;
    }

    private void resetBoth(EndReason reason, int err) {
        if (closed) return;
        if (client.fd >= 0) k.set_linger(client.fd, 1, 0);
        if (backend.fd >= 0) k.set_linger(backend.fd, 1, 0);
        close(reason, err);
    }

    /** Closes both sockets exactly once, returns buffers to the pool and reports the end. */
    void close(EndReason reason, int err) {
        if (closed) return;
        closed = true;
        loop.cancel(this);
        connector.unpark();
        connector.release();
        // Bytes read but not delivered (a timeout or shutdown while a peer was slow): a FIN would tell the
        // receiver its stream ended complete. An RST tells it the truth.
        if (up.pending() && backend.fd >= 0) k.set_linger(backend.fd, 1, 0);
        if (down.pending() && client.fd >= 0) k.set_linger(client.fd, 1, 0);
        up.release();
        down.release();
        String tlsText = null;
        String why = null;
        if (client.tls != null) {
            tlsText = client.tls.summary();
            why = client.tls.failure() != null ? client.tls.failure()
                    : client.tls.truncated() ? "the client closed without close_notify (truncated TLS stream)" : null;
            client.tls.release();
        }
        if (backendTlsWhy != null && why == null) why = backendTlsWhy;
        if (backend.tls != null && tlsText == null && backendTlsWhy == null) tlsText = "backend " + backend.tls.summary();
        closeSide(client);
        closeSide(backend);
        fl.clientLimits().release(clientTicket);
        ForwardStats st = stats();
        st.active--;
        addOpenBytes(st);
        st.ended(reason);
        fl.closed(this, new ConnectionRecord(forward, clientAddr, currentBackend(), up.bytesOut, down.bytesOut,
                (loop.now() - startNanos) / 1_000_000, reason, err, why, routed, tlsText));
    }

    void closeSide(Side s) {
        if (s.tls != null && s == backend) {
            s.tls.release();
            s.tls = null; // a next backend (after a failed connect or handshake) gets a new engine
        }
        if (s.fd < 0) return;
        loop.release(s.token, false);
        k.close(s.fd);
        s.fd = -1;
    }

    /** The backend in use or being tried; null before the first connect. */
    Backend currentBackend() {
        return connector.backendIndex < 0 ? null : forward.backends().get(connector.backendIndex);
    }

    // ---- the live view ----

    @Override
    public void addOpenBytes(ForwardStats into) {
        into.bytesUp += up.bytesOut;
        into.bytesDown += down.bytesOut;
        into.bytesSplicedUp += up.bytesSpliced;
        into.bytesSplicedDown += down.bytesSpliced;
    }

    @Override
    public ConnectionInfo info(EventLoop l) {
        return PairView.info(this, l);
    }
}
