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
 * The connect phase is {@link Connector}'s, what TLS adds {@link PairTls}'s, and how the pair ends (resets,
 * the close, its reason and counts) {@link PairEnd}'s.
 */
final class Pair extends Connection {
    /** At most this many full-buffer reads per readiness event, so one busy pair cannot starve the loop. */
    static final int READS_PER_EVENT = 4;

    final ForwardingLoop fl;
    final EventLoop loop;
    final Kernel k;
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
    final ClientLimits.Entry clientTicket;
    final Side client = new Side(this, true);
    final Side backend = new Side(this, false);
    final Direction up;
    final Direction down;
    final long startNanos;
    /** The connect phase: which backend, since when, waiting for an fd or for the connect. */
    final Connector connector = new Connector(this);
    /** The backend's TLS handshake and the records TLS holds back; null for a pair without TLS (most). */
    final PairTls pairTls;
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
        pairTls = tls != null || forward.backendTls() != null ? new PairTls(this) : null;
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
            PairEnd.abort(this, client, n); // reset before its first byte: nothing to connect for
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
            if (backend.tls != null) pairTls.stepBackendTls();
            else connector.onEvent(events);
            return;
        }
        // ERR/HUP count as both readable and writable: the next recv/send reports the cause.
        boolean failed = (events & (EPOLLERR | EPOLLHUP)) != 0;
        if (((events & EPOLLOUT) != 0 || failed) && s.tls != null && s.tls.outputPending() && !pairTls.flushTls(s)) return;
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
        PairEnd.abort(this, d.from, n);
        return false;
    }

    /**
     * Sends what d holds to d.to; FIN follows once drained if d.from sent one. On an io_uring loop the send
     * is the kernel's to finish, and {@link #sent} goes on from there. False if the pair closed.
     */
    boolean flush(Direction d) {
        if (d.sending()) return true;
        while (d.pending()) {
            if (d.canSendAsync()) {
                d.sendAsync();
                return true;
            }
            int n = d.drain();
            if (n < 0) {
                if (n == -Errno.EAGAIN) {
                    fl.counters().eagainSend++;
                    return true;
                }
                PairEnd.abort(this, d.to, n);
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

    /** The kernel finished d's send (io_uring): {@code n} bytes went, or -errno. */
    void sent(Direction d, int n) {
        if (closed) return;
        if (n < 0) {
            PairEnd.abort(this, d.to, n);
            return;
        }
        lastActivity = loop.now();
        d.taken(n);
        if (!flush(d)) return; // what MSG_WAITALL left (a signal), then the FIN if one waits
        afterIo();
    }

    /** shutdown(d.to, SHUT_WR): passes d.from's FIN on. False if the pair closed. */
    boolean sendFin(Direction d) {
        d.finSent = true;
        // The other direction already ended: the pair closes right after this (afterIo), and close()
        // sends the FIN itself, gracefully, since d.to's EOF was read and nothing is left unread there.
        if ((d == up ? down : up).finSent) return true;
        int rc = d.shut();
        if (rc < 0) {
            PairEnd.abort(this, d.to, rc);
            return false;
        }
        return true;
    }

    /** After each event: close if both directions finished, else bring both interest masks up to date. */
    void afterIo() {
        if (up.done() && down.done()) {
            PairEnd.close(this, firstFin == up ? EndReason.CLIENT_CLOSED : EndReason.BACKEND_CLOSED, 0);
            return;
        }
        if (setInterest(client, maskFor(client))) setInterest(backend, maskFor(backend));
        if ((client.tls != null || backend.tls != null) && !closed) pairTls.tlsInputCheck();
    }

    /** The epoll interest a side needs in the current state. */
    int maskFor(Side s) {
        if (s == backend && connector.connecting) return backend.tls != null ? pairTls.backendTlsMask : EPOLLOUT;
        if (s.fd < 0) return 0;
        int m = 0;
        if (s.in.wantsRead()) m |= EPOLLIN;
        if ((s.out.pending() && !s.out.sending()) || (s.tls != null && s.tls.outputPending())) m |= EPOLLOUT;
        return m;
    }

    boolean setInterest(Side s, int mask) {
        if (s.fd < 0) return true;
        int rc = loop.setInterest(s.token, mask);
        if (rc < 0) {
            PairEnd.close(this, EndReason.ERROR, rc);
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
            PairEnd.fail(this, e); // the loop only logs a failed timer: end the pair, or it is left half-made
            throw e;
        }
    }

    private void timeout(long now) {
        Settings st = fl.settings();
        if (connector.connecting) {
            if (connector.onTimer(now)) return;
        } else if (st.idleTimeoutSec() > 0 && now - lastActivity >= st.idleTimeoutSec() * 1_000_000_000L) {
            PairEnd.close(this, EndReason.IDLE_TIMEOUT, 0);
            return;
        } else if (finSince != 0 && st.finTimeoutSec() > 0 && now - finSince >= st.finTimeoutSec() * 1_000_000_000L) {
            PairEnd.close(this, EndReason.FIN_TIMEOUT, 0);
            return;
        }
        armTimer();
    }

    // ---- ending (how: PairEnd) ----

    /** Shutdown of the proxy: close with RST so clients learn at once; nothing is half-done quietly. */
    @Override
    public void abortForShutdown() {
        PairEnd.resetBoth(this, EndReason.SHUTDOWN, 0);
    }

    @Override
    public boolean resetIfUsing(Object state) {
        if (closed || connector.backendIndex < 0 || group.state(connector.backendIndex) != state) return false;
        PairEnd.resetBoth(this, EndReason.BACKEND_DISABLED, 0);
        return true;
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
