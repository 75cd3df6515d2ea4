package org.epollproxy.forward.tcp;

import static org.epollproxy.shim.Epoll.EPOLLIN;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.epollproxy.forward.BufferPool;
import org.epollproxy.forward.ClientLimits;
import org.epollproxy.forward.ConnectionRecord;
import org.epollproxy.forward.EndReason;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.ForwardingLoop;
import org.epollproxy.forward.ProxyProtocol;
import org.epollproxy.forward.Route;
import org.epollproxy.forward.Routed;
import org.epollproxy.forward.preread.FirstBytes;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.NativeMemory;
import org.epollproxy.shim.SockAddr;

/**
 * On a listener with routes, the phase of an admitted client before its pair: read its first bytes (after
 * its PROXY header, with accept-proxy) until {@link FirstBytes} can say what they are, choose the first
 * route that matches (or the listener's own backends, the default route), and hand the client to its pair
 * with every byte read, which the pair sends to the backend first, intact. Nothing is decrypted or answered.
 *
 * <p>Bounded: at most the pre-read cap is held (a byte array that grows to it), and a client still undecided
 * at the cap, at the pre-read deadline, with a malformed ClientHello, or whose bytes match no route while the
 * listener has no default route, is closed with a reason of its own (preread-too-long, preread-timeout,
 * bad-client-hello, no-route), logged and counted. A client that sends nothing for the SSH wait goes to the
 * first {@code proto:ssh} route (an SSH server speaks first). No backend socket exists yet, so a flood of
 * silent clients costs one fd and this object each until the deadline (and --max-connections-per-client
 * counts them: they were admitted).
 */
final class PrereadReader extends BeforePair {
    private final SockAddr destination;
    private final ClientLimits.Entry ticket;
    private final int cap;
    /** Asked after every read; it keeps its parse of a TLS hello between reads (linear work, not quadratic). */
    private final FirstBytes classifier;
    private byte[] got;
    private int have;

    private PrereadReader(TcpListener listener, int fd, SockAddr client, SockAddr destination, byte[] early, ClientLimits.Entry ticket) {
        super(listener, fd, client); // the forward as the client arrived: its routes decide, even if a reload comes meanwhile
        this.destination = destination;
        this.ticket = ticket;
        // The bytes read wait in one pool buffer behind the PROXY header the pair may send (Direction.queueFirst).
        this.cap = Math.max(1, Math.min(forward.preread().maxBytes(), fl.pool().bufferSize() - ProxyProtocol.MAX_HEADER));
        this.classifier = new FirstBytes(cap);
        int initial = Math.min(cap, 2048); // a browser's hello, post-quantum key share included, in one piece
        // The bytes that came with a v1 PROXY header (at most 107 minus the line) are the client's and all kept,
        // even past the cap: the cap bounds what is read to decide, never what was read already. They still fit
        // the pair's buffer behind its PROXY header: the pool's buffers hold at least twice MAX_HEADER.
        this.got = early == null ? new byte[initial] : Arrays.copyOf(early, Math.max(initial, early.length));
        this.have = early == null ? 0 : early.length;
    }

    static void start(TcpListener listener, int fd, SockAddr client, SockAddr destination, byte[] early, ClientLimits.Entry ticket) {
        PrereadReader r;
        try {
            r = new PrereadReader(listener, fd, client, destination, early, ticket);
        } catch (RuntimeException e) {
            listener.forwardingLoop().clientLimits().release(ticket);
            listener.forwardingLoop().loop().kernel().close(fd); // not registered: nobody else closes it
            throw e;
        }
        ForwardingLoop fl = listener.forwardingLoop();
        fl.opened(r);
        if (r.have > 0 && r.decide(false)) return; // the bytes that came with the PROXY header were enough
        // A client usually sends at once (its hello may be here with the accept): read before waiting for
        // epoll, which saves a wakeup and an epoll_ctl for most clients; -EAGAIN costs one recv.
        r.onEvent(EPOLLIN);
        if (r.done) return;
        if (fl.loop().setInterest(r.token, EPOLLIN) < 0) {
            r.end(EndReason.ERROR, null, null);
            return;
        }
        r.armTimer();
    }

    private long prereadDeadline() {
        return startNanos + forward.preread().timeoutMs() * 1_000_000L;
    }

    private long sshWaitEnd() {
        return startNanos + forward.preread().sshWaitMs() * 1_000_000L;
    }

    /** The next wakeup: the end of the SSH wait while nothing came and an ssh route exists, else the deadline. */
    private void armTimer() {
        long at = prereadDeadline();
        if (have == 0 && sshRoute() != null && sshWaitEnd() - at < 0) at = sshWaitEnd();
        loop.schedule(this, at);
    }

    private Route sshRoute() {
        for (Route r : forward.routes()) if (r.isSsh()) return r;
        return null;
    }

    @Override
    public void onEvent(int events) {
        if (done) return;
        BufferPool pool = fl.pool();
        while (!done) {
            int want = Math.min(cap - have, pool.bufferSize());
            if (want <= 0) { // cannot happen: the classifier decides at the cap
                end(EndReason.PREREAD_TOO_LONG, "no decision after " + have + " bytes (the pre-read cap)", null);
                return;
            }
            long b = pool.take();
            int n;
            try {
                n = loop.kernel().recv(fd, b, want);
                if (n > 0) {
                    // grown to what came (doubling), not to the cap: a 2 KB hello costs 2 KB, not 16
                    if (have + n > got.length) got = Arrays.copyOf(got, Math.min(cap, Math.max(have + n, 2 * got.length)));
                    NativeMemory.get(b, got, have, n);
                }
            } finally {
                pool.give(b);
            }
            if (n == -Errno.EAGAIN) return;
            if (n < 0) {
                end(EndReason.CLIENT_RESET, null, null);
                return;
            }
            if (n > 0) have += n;
            if (decide(n == 0)) return;
        }
    }

    /**
     * Asks the classifier about the bytes so far ({@code eof}: and the client's FIN after them); once it
     * decides, ends the client or hands it over. True if it decided.
     */
    private boolean decide(boolean eof) {
        FirstBytes.Verdict v = classifier.next(got, have, eof);
        if (!v.decided()) return false;
        if (v.end() != null) {
            trace(v, null);
            Routed seen = new Routed("-", "tls", v.sni(), v.alpn());
            end(v.end().equals(FirstBytes.BAD_HELLO) ? EndReason.BAD_CLIENT_HELLO : EndReason.PREREAD_TOO_LONG, v.why(), seen);
            return true;
        }
        String proto = v.proto().name().toLowerCase(Locale.ROOT);
        Route r = Route.first(forward.routes(), proto, v.sni(), v.alpn());
        trace(v, r);
        handOver(r, new Routed(r != null ? r.name() : forward.backends().isEmpty() ? "-" : Routed.DEFAULT, proto, v.sni(), v.alpn()));
        return true;
    }

    /** --trace: what was read and what it was taken for. */
    private void trace(FirstBytes.Verdict v, Route r) {
        if (!fl.settings().trace()) return;
        StringBuilder sb = new StringBuilder("preread fd ").append(fd).append(' ').append(have).append(" bytes");
        sb.append(v.end() != null ? " end=" + v.end() : " proto=" + v.proto().name().toLowerCase(Locale.ROOT));
        if (v.sni() != null) sb.append(" sni=").append(v.sni());
        if (!v.alpn().isEmpty()) sb.append(" alpn=").append(String.join(",", v.alpn()).replaceAll("[^\\x21-\\x7e]", "?"));
        sb.append(" route=").append(r != null ? r.name() : v.end() != null ? "-" : "default").append(" first bytes:");
        for (int i = 0; i < Math.min(have, 32); i++) sb.append(String.format(Locale.ROOT, " %02x", got[i] & 0xff));
        if (have > 32) sb.append(" ...");
        fl.log().info(sb.toString());
    }

    /** The route is chosen ({@code r}, or null: the default route): the pair takes the fd and every byte read. */
    private void handOver(Route r, Routed routed) {
        Forward target = r != null ? r.target() : forward;
        if (target.backends().isEmpty()) {
            end(EndReason.NO_ROUTE, null, routed);
            return;
        }
        if (r == null && forward.tls() != null && !routed.proto().equals("tls")) {
            // The default route of a TLS listener terminates TLS: a client that speaks something else must not
            // reach its backend in the clear (only a route that matches it explicitly may take it there).
            forward.tls().metrics().handshakeFailed(org.epollproxy.forward.tls.TlsMetrics.NOT_TLS);
            end(EndReason.TLS_HANDSHAKE, "not TLS (a plaintext client?): its first bytes were " + routed.proto()
                    + ", and no route takes that", routed);
            return;
        }
        leave();
        listener.backendPool().routedCounter(forward, routed.route()).increment();
        if (r == null && forward.tls() != null && routed.proto().equals("tls")) {
            // A TLS listener with routes: the routes pass their clients' TLS through untouched; the default
            // route terminates it with the listener's certificates, the hello read so far going to the engine.
            TlsHandshake.start(listener, forward.tls(), fd, client, destination, Arrays.copyOf(got, have), ticket, listener.group(target), routed);
            return;
        }
        listener.pair(fd, client, destination, Arrays.copyOf(got, have), ticket, listener.group(target), routed);
    }

    @Override
    protected void onTimer(long now) {
        if (done) return;
        Route ssh = have == 0 ? sshRoute() : null;
        if (ssh != null && now - sshWaitEnd() >= 0) {
            if (fl.settings().trace()) fl.log().info("preread fd " + fd + " silent for " + forward.preread().sshWaitMs() + " ms: route=" + ssh.name());
            handOver(ssh, new Routed(ssh.name(), "silent", null, List.of()));
            return;
        }
        if (now - prereadDeadline() >= 0) {
            end(EndReason.PREREAD_TIMEOUT, "no route chosen within " + forward.preread().timeoutMs() + " ms (" + have + " bytes came)", null);
            return;
        }
        armTimer();
    }

    @Override
    public void onFailure(RuntimeException e) {
        end(EndReason.ERROR, null, null);
    }

    /** Closes the client: nothing of it reached a backend. */
    private void end(EndReason reason, String why, Routed routed) {
        if (!closeClient(reason)) return;
        fl.clientLimits().release(ticket);
        fl.closed(this, new ConnectionRecord(forward, client, null, 0, 0, ageMs(), reason, 0, why, routed));
    }

    @Override
    String phase() {
        return "preread";
    }

    @Override
    int held() {
        return have;
    }

    @Override
    public void abortForShutdown() {
        end(EndReason.SHUTDOWN, null, null);
    }
}
