package org.epollproxy.forward.tcp;

import static org.epollproxy.shim.Epoll.EPOLLIN;

import org.epollproxy.forward.ClientLimits;
import org.epollproxy.forward.BufferPool;
import org.epollproxy.forward.ConnectionRecord;
import org.epollproxy.forward.EndReason;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.ForwardingLoop;
import org.epollproxy.forward.ListenerBase;
import org.epollproxy.forward.Sockets;
import org.epollproxy.forward.balance.BackendGroup;
import org.epollproxy.forward.balance.BackendPool;
import org.epollproxy.forward.UnixSockets;
import org.epollproxy.loop.Timer;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.Net;
import org.epollproxy.shim.SockAddr;

/**
 * A listening socket of one forward on one loop. On EPOLLIN it accepts until -EAGAIN (at most
 * {@link #ACCEPTS_PER_WAKEUP} at a time, so one busy port cannot starve the other fds).
 *
 * <p>EMFILE/ENFILE: the pending connection stays in the backlog, so a level-triggered listener would
 * be reported again at once and spin a core. Instead the listener leaves the epoll set for
 * {@link #BACKOFF_MS} ms (its own timer), logs once per episode, and retries; connections closing in
 * the meantime free fds and accepting resumes.
 */
public final class TcpListener extends ListenerBase {
    static final int ACCEPTS_PER_WAKEUP = 64;
    static final int BACKOFF_MS = 100;
    /**
     * The most connections {@link #takeInQueued} takes in: more than any backlog holds (somaxconn is at most
     * 65535 per socket), yet a bound if clients keep arriving faster than they are accepted.
     */
    static final int DRAIN_ACCEPTS = 1 << 17;

    private boolean pausedForFds;
    private boolean pausedForCap;
    private long fdPauses;
    private boolean closed;

    /** Re-checks a paused listener: after the EMFILE back-off, or for room below --max-connections. */
    private final Timer resume = new Timer() {
        @Override
        protected void onTimer(long now) {
            if (pausedForFds && parked > 0) { // a client already accepted still waits for an fd: it goes first
                loop.schedule(this, now + BACKOFF_MS * 1_000_000L);
                return;
            }
            pausedForFds = false;
            if (pausedForCap && !fl.atCapacity()) pausedForCap = false;
            updateInterest();
            // Another loop's connections may free the capacity: look again soon rather than wait for a wakeup.
            if (pausedForCap) loop.schedule(this, now + CAP_RECHECK_MS * 1_000_000L);
        }
    };

    static final int CAP_RECHECK_MS = 20;

    /** Every forward's backend state; shared by the process's loops (ProxyServer), or this listener's own. */
    private final BackendPool backends;
    private BackendGroup group;

    public TcpListener(ForwardingLoop fl, Forward forward, int fd) {
        this(fl, forward, fd, new BackendPool());
    }

    public TcpListener(ForwardingLoop fl, Forward forward, int fd, BackendPool backends) {
        super(fl, forward, fd);
        this.backends = backends;
        // Now, not at the first client: a branch only a listener's first client takes was compiled out of the
        // accept path, and the real forward's first client after a --warmup threw that code away.
        this.group = backends.group(forward);
    }

    /** The live state of the current forward's backends (a reload gives the listener a new forward). */
    BackendGroup group() {
        Forward f = forward();
        if (group.forward() != f) group = backends.group(f); // set in the constructor, never null
        return group;
    }

    /** The groups of the current forward's route targets, looked up once per forward (not per client). */
    private final java.util.Map<Forward, BackendGroup> routeGroups = new java.util.IdentityHashMap<>();
    private Forward routeGroupsOf;

    /** The live state of route {@code target}'s backends. */
    BackendGroup group(Forward target) {
        if (target == forward()) return group();
        if (routeGroupsOf != forward()) {
            routeGroups.clear();
            routeGroupsOf = forward();
        }
        return routeGroups.computeIfAbsent(target, backends::group);
    }

    /** The process-wide backend states, which also count the clients each route took. */
    BackendPool backendPool() {
        return backends;
    }

    /** Pairs of this listener waiting for an fd for their backend socket (Connector.parkForFd). */
    private int parked;

    void parked(int delta) {
        parked += delta;
    }

    /**
     * TCP_NODELAY is set on the listening socket, so every socket it accepts has it already: Linux makes
     * an accepted socket as a copy of its listener, Nagle's setting included (NodelayInheritanceTest).
     * One setsockopt per listener instead of one per client. Done here, not where the socket is made, so
     * that listeners systemd passed or a takeover handed over get it too. False (a UNIX listener, or the
     * call failed): each accepted TCP socket gets the option itself, as before.
     */
    private boolean nodelayInherited;

    @Override
    public void start() {
        nodelayInherited = !forward().bind().isUnix() && k.setsockopt_int(fd, Net.IPPROTO_TCP, Net.TCP_NODELAY, 1) == 0;
        updateInterest();
    }

    @Override
    public void onEvent(int events) {
        try {
            acceptSome();
        } finally {
            fl.releaseReservation(); // the place claimed for an accept that found nobody (or a denied client)
        }
        if (fdPauses > 0 && !pausedForFds) {
            fl.log().info("accepting again on " + forward().bind() + " after " + fdPauses + " pause(s) of " + BACKOFF_MS + " ms");
            fdPauses = 0;
        }
    }

    /** Drain: accept until EAGAIN (or out of fds, or --max-connections), so that closing resets nobody. */
    @Override
    public void takeInQueued() {
        try {
            acceptSome(DRAIN_ACCEPTS);
        } finally {
            fl.releaseReservation();
        }
    }

    private void acceptSome() {
        acceptSome(ACCEPTS_PER_WAKEUP);
    }

    private void acceptSome(int most) {
        for (int i = 0; i < most && !closed && !pausedForFds; i++) {
            if (!fl.reserve()) {
                pauseForCap();
                return;
            }
            int c = k.accept(fd, fl.scratch().address());
            if (c >= 0) {
                stats().accepted++;
                accepted(c, SockAddr.read(fl.scratch().buffer(), 0));
                continue;
            }
            if (c == -Errno.EAGAIN) break;
            if (c == -Errno.EMFILE || c == -Errno.ENFILE || c == -Errno.ENOBUFS || c == -Errno.ENOMEM) {
                pauseForFds(c);
                break;
            }
            // ECONNABORTED, EPERM (firewall), EPROTO...: that one connection is gone; keep accepting.
            fl.log().error("accept on " + forward().bind() + ": " + Errno.describe(c));
        }
    }

    /**
     * A new client: with accept-proxy its PROXY header is read first; then {@link #admit}, which, for a
     * listener with routes, reads the client's first bytes to choose the route ({@link PrereadReader}).
     */
    private void accepted(int fd, SockAddr peer) {
        if (forward().acceptProxy()) {
            if (!forward().trustsProxy(peer)) {
                // Its header would pick its own address (access rule, balancing hash, per-client limit): closed
                // unread, before any byte of it is trusted.
                k.close(fd);
                stats().ended(EndReason.UNTRUSTED_PROXY);
                fl.connectionEnded(new ConnectionRecord(forward(), peer, null, 0, 0, 0, EndReason.UNTRUSTED_PROXY, 0,
                        "not in --accept-proxy-from"));
                return;
            }
            ProxyHeaderReader.start(this, fd, peer);
            return;
        }
        admit(fd, peer, null, null);
    }

    /**
     * A client whose address is known ({@code client}: the peer's, or the one its PROXY header announced,
     * then with the {@code destination} it announced and the client bytes read with the header, {@code early}):
     * checked against the access rules and the per-client limits, then paired with a connect to its backend
     * (with routes: after its first bytes chose the route).
     */
    void admit(int fd, SockAddr client, SockAddr destination, byte[] early) {
        String verdict = forward().access().check(client);
        EndReason refused = verdict == null ? null : verdict.equals("denied") ? EndReason.DENIED : EndReason.NOT_ALLOWED;
        ClientLimits.Entry ticket = null;
        if (refused == null) {
            ticket = fl.clientLimits().admit(client, loop.now());
            if (ticket == null) refused = EndReason.CLIENT_LIMIT;
        }
        if (refused != null) {
            // Accepted and closed at once, as rinetd does: the client sees connect + EOF, the backend nothing.
            // (Left in the backlog instead, one client's flood would hold back every other client queued behind it.)
            k.close(fd);
            if (refused != EndReason.CLIENT_LIMIT) stats().denied++;
            stats().ended(refused);
            fl.connectionEnded(new ConnectionRecord(forward(), client, null, 0, 0, 0, refused, 0));
            return;
        }
        if (!forward().routes().isEmpty()) {
            PrereadReader.start(this, fd, client, destination, early, ticket);
            return;
        }
        if (forward().tls() != null) {
            TlsHandshake.start(this, forward().tls(), fd, client, destination, early, ticket, group(), null);
            return;
        }
        pair(fd, client, destination, early, ticket, group(), null);
    }

    /**
     * An admitted client and its backend group ({@code group}: the listener's own, or its route's): paired
     * with a connect to one of the group's backends. {@code early} (the bytes read with a PROXY header, or to
     * choose the route) is sent to the backend first, after the PROXY header sent, if any.
     */
    void pair(int fd, SockAddr client, SockAddr destination, byte[] early, ClientLimits.Entry ticket, BackendGroup g,
            org.epollproxy.forward.Routed routed) {
        pair(fd, client, destination, early, ticket, g, routed, null);
    }

    /** As above for a client whose TLS handshake is done ({@code tls}; null: a plain client). */
    void pair(int fd, SockAddr client, SockAddr destination, byte[] early, ClientLimits.Entry ticket, BackendGroup g,
            org.epollproxy.forward.Routed routed, org.epollproxy.forward.tls.TlsChannel tls) {
        Pair p;
        try {
            if (!client.isUnix() && !forward().bind().isUnix()) Sockets.tuneAccepted(k, fd, fl.settings(), nodelayInherited);
            p = new Pair(this, g, routed, fd, client, destination, early, ticket, tls);
        } catch (BufferPool.OutOfBuffers e) { // no memory for the PROXY header: this client only is refused
            fl.clientLimits().release(ticket);
            if (tls != null) tls.release();
            k.set_linger(fd, 1, 0);
            k.close(fd);
            fl.counters().bufferAllocFailures++;
            stats().ended(EndReason.ERROR);
            fl.log().error("tcp client=" + client + ": " + e.getMessage() + "; connection reset");
            fl.connectionEnded(new ConnectionRecord(g.forward(), client, null, 0, 0, 0, EndReason.ERROR, -Errno.ENOMEM, null, routed));
            return;
        } catch (RuntimeException e) {
            fl.clientLimits().release(ticket);
            if (tls != null) tls.release();
            k.close(fd); // nobody owns the new fd yet: close it here or it leaks
            throw e;
        }
        fl.opened(p);
        stats().active++;
        try {
            p.readAtAccept();
            if (!p.closed) p.connector.start();
            if (tls != null) p.pairTls.afterTlsHandshake();
        } catch (RuntimeException e) {
            // The listener's handler gets the exception, not the pair's: end the half-made pair here,
            // or it stays open with no interest and no timer, forever.
            PairEnd.fail(p, e);
            throw e;
        }
    }

    /**
     * Out of fds, at accept or at the backend socket of a connection just accepted: stop accepting for
     * the back-off. Without it, a process with one fd free accepts, fails its backend socket and drops
     * every connection waiting in the backlog in a burst.
     */
    void pauseForFds(int err) {
        if (pausedForFds) return;
        stats().acceptPauses++;
        if (fdPauses++ == 0) {
            fl.log().error("accept on " + forward().bind() + ": " + Errno.describe(err)
                    + ": pausing this listener for " + BACKOFF_MS + " ms at a time until fds are free");
        }
        pausedForFds = true;
        updateInterest();
        loop.schedule(resume, loop.now() + BACKOFF_MS * 1_000_000L);
    }

    private void pauseForCap() {
        if (pausedForCap) return;
        pausedForCap = true;
        stats().capPauses++;
        updateInterest();
        if (!resume.isScheduled()) loop.schedule(resume, loop.now() + CAP_RECHECK_MS * 1_000_000L);
    }

    /** A connection closed on this loop: if we stopped at --max-connections, accept again at once. */
    @Override
    public void capacityFreed() {
        if (pausedForCap && !fl.atCapacity()) {
            pausedForCap = false;
            updateInterest();
        }
    }

    private void updateInterest() {
        if (closed) return;
        int rc = loop.setInterest(token, pausedForFds || pausedForCap ? 0 : EPOLLIN);
        if (rc < 0) {
            // ENOMEM/ENOSPC are transient: retry after the back-off, or this port stops accepting for good.
            fl.log().error("epoll_ctl on listener " + forward().bind() + ": " + Errno.describe(rc) + "; retrying in " + BACKOFF_MS + " ms");
            loop.schedule(resume, loop.now() + BACKOFF_MS * 1_000_000L);
        }
    }

    /** Stops listening: leaves the loop and closes the fd. Open pairs are not touched. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        loop.cancel(resume);
        // DEL before close: after a takeover another process holds the same socket, so closing our fd does
        // not take it out of our epoll set, and its connections would still wake this loop.
        loop.release(token, true);
        // The socket file goes with it, unless a takeover handed it on; checked while our socket still holds
        // its inode, so the inode number cannot belong to another file yet.
        if (forward().bind().isUnix()) UnixSockets.remove(forward().bind());
        k.close(fd);
    }
}
