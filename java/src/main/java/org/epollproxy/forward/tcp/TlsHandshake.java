package org.epollproxy.forward.tcp;

import static org.epollproxy.shim.Epoll.EPOLLERR;
import static org.epollproxy.shim.Epoll.EPOLLHUP;
import static org.epollproxy.shim.Epoll.EPOLLIN;
import static org.epollproxy.shim.Epoll.EPOLLOUT;
import static org.epollproxy.shim.Epoll.EPOLLRDHUP;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import org.epollproxy.forward.ClientLimits;
import org.epollproxy.forward.ConnectionRecord;
import org.epollproxy.forward.EndReason;
import org.epollproxy.forward.ForwardingLoop;
import org.epollproxy.forward.Routed;
import org.epollproxy.forward.balance.BackendGroup;
import org.epollproxy.forward.tls.TlsChannel;
import org.epollproxy.forward.tls.TlsMetrics;
import org.epollproxy.forward.tls.TlsServer;
import org.epollproxy.forward.tls.TlsTasks;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.SockAddr;

/**
 * On a TLS listener, the phase of an admitted client before its pair: the TLS handshake, driven by the
 * client's socket events, its CPU-heavy steps (the engine's delegated tasks) run by {@link TlsTasks} off the
 * loop, then the client goes to its pair with the finished {@link TlsChannel}. No backend is contacted before
 * the handshake succeeds: a client without a valid certificate (mTLS), a plaintext client, one that stalls
 * past the deadline or leaves mid-handshake never reaches a backend. Each such end is logged
 * ({@code end=tls-handshake why="..."}) and counted, by reason, in the listener's {@link TlsMetrics}.
 */
final class TlsHandshake extends BeforePair {
    private final TlsServer tls;
    private final SockAddr destination;
    private final ClientLimits.Entry ticket;
    private final BackendGroup group;
    private final Routed routed;
    private final TlsChannel channel;
    /** A delegated task runs on TlsTasks' thread: the engine is not ours to touch until it hands back. */
    private boolean inTask;

    /** Registers {@code fd} with its handshake under way in {@code channel} (see {@link BeforePair}). */
    private TlsHandshake(TcpListener listener, TlsServer tls, int fd, SockAddr client, SockAddr destination, ClientLimits.Entry ticket,
            BackendGroup group, Routed routed, TlsChannel channel) {
        super(listener, fd, client);
        this.tls = tls;
        this.destination = destination;
        this.ticket = ticket;
        this.group = group;
        this.routed = routed;
        this.channel = channel;
    }

    /** Starts the handshake of an admitted client ({@code early}: the records already read to choose a route). */
    static void start(TcpListener listener, TlsServer tls, int fd, SockAddr client, SockAddr destination, byte[] early,
            ClientLimits.Entry ticket, BackendGroup group, Routed routed) {
        ForwardingLoop fl = listener.forwardingLoop();
        TlsHandshake h;
        TlsChannel channel = null;
        try {
            // The engine before the fd joins the loop: a client without one is closed here, never registered.
            SSLEngine engine = tls.newEngine();
            channel = new TlsChannel(engine, fl.loop().kernel(), fl.pool(), fd, tls.metrics());
            // The hello's name: for the key manager (several certificates), and, with routes, to hold a second
            // hello (after a HelloRetryRequest) to the name the route was chosen by.
            if (tls.choosesByName() || routed != null) {
                boolean byName = tls.choosesByName();
                channel.watchHello(new HelloName(fl.pool().bufferSize(), name -> {
                    if (byName) tls.nameAsked(engine, name);
                }));
            }
            channel.feed(early);
            h = new TlsHandshake(listener, tls, fd, client, destination, ticket, group, routed, channel);
        } catch (SSLException | RuntimeException e) {
            // No engine for this client (a java.security policy that disables TLS 1.2 and 1.3, say): it ends
            // here, logged and counted as every end is; the listener goes on.
            if (channel != null) channel.release(); // the early bytes' pool buffer
            fl.clientLimits().release(ticket);
            fl.loop().kernel().close(fd); // not registered: nobody else closes it
            tls.metrics().handshakeFailed(TlsMetrics.SETUP);
            listener.stats().ended(EndReason.TLS_HANDSHAKE);
            fl.connectionEnded(new ConnectionRecord(listener.forward(), client, null, 0, 0, 0, EndReason.TLS_HANDSHAKE, 0,
                    "TLS setup failed: " + e.getMessage(), routed));
            return;
        }
        fl.opened(h);
        h.loop.schedule(h, h.startNanos + tls.handshakeTimeoutMs() * 1_000_000L);
        h.step();
    }

    @Override
    public void onEvent(int events) {
        if (done) return;
        if (!inTask) {
            step();
        } else if ((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
            // The client left (FIN or RST) while its task waits or runs: no handshake can finish now. Ending it
            // here drops a task still waiting for a thread (TlsTasks), instead of a key exchange for nobody.
            failed(TlsMetrics.CLIENT_CLOSED, "the client closed during the handshake");
        }
    }

    /** Runs the handshake as far as it goes now, then waits for the socket, a task, or hands over. */
    private void step() {
        int rc;
        try {
            rc = channel.handshake();
        } catch (SSLException e) {
            failed(reasonOf(e), describe(e));
            return;
        }
        switch (rc) {
            case TlsChannel.DONE -> handOver();
            case TlsChannel.WANT_READ -> interest(EPOLLIN);
            case TlsChannel.WANT_WRITE -> interest(EPOLLOUT);
            case TlsChannel.WANT_TASK -> runTask();
            case TlsChannel.PEER_CLOSED -> failed(TlsMetrics.CLIENT_CLOSED, "the client closed during the handshake");
            // -EIO is the channel refusing what the client sent (a record larger than the buffer), not the socket
            default -> failed(channel.failure() != null ? TlsMetrics.PROTOCOL : TlsMetrics.CLIENT_CLOSED, channel.failure() != null
                    ? channel.failure() : "the client's socket failed during the handshake: " + Errno.describe(rc));
        }
    }

    private void interest(int mask) {
        int rc = loop.setInterest(token, mask);
        if (rc < 0) end(EndReason.ERROR, rc, null);
    }

    /** The engine's task (signatures, certificate checks) off the loop; the loop goes on with other clients meanwhile. */
    private void runTask() {
        if (loop.setInterest(token, EPOLLRDHUP) < 0) { // only its leaving, while the engine is the task's
            end(EndReason.ERROR, 0, null);
            return;
        }
        inTask = true;
        TlsTasks.run(channel, loop, () -> {
            inTask = false;
            if (!done) step();
        });
    }

    private void handOver() {
        leave(); // the pair registers the fd with its own handler
        long took = loop.now() - startNanos;
        tls.metrics().handshakeDone(took, tls.resumed(channel.engine()));
        if (fl.settings().trace()) fl.log().info("tls fd " + fd + " handshake done in " + took / 1000 + " us: " + channel.summary());
        listener.pair(fd, client, destination, null, ticket, group, routed, channel);
    }

    private static String reasonOf(SSLException e) {
        String m = String.valueOf(e.getMessage()).toLowerCase(java.util.Locale.ROOT);
        if (m.contains("plaintext") || m.contains("unsupported or unrecognized ssl message") || m.contains("not a tls")) return TlsMetrics.NOT_TLS;
        if (m.contains("certificate") || m.contains("certpath") || m.contains("pkix")) return TlsMetrics.CLIENT_CERT;
        return TlsMetrics.PROTOCOL;
    }

    private static String describe(SSLException e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (e instanceof SSLHandshakeException && e.getCause() != null && e.getCause().getMessage() != null && !m.contains(e.getCause().getMessage())) {
            m += ": " + e.getCause().getMessage();
        }
        if (reasonOf(e).equals(TlsMetrics.NOT_TLS)) m = "not TLS (a plaintext client?): " + m;
        return m;
    }

    private void failed(String reason, String why) {
        if (done) return;
        tls.metrics().handshakeFailed(reason);
        channel.sendAlert();
        end(EndReason.TLS_HANDSHAKE, 0, why);
    }

    @Override
    protected void onTimer(long now) {
        if (done) return;
        failed(TlsMetrics.TIMEOUT, "no complete handshake within " + tls.handshakeTimeoutMs() + " ms");
    }

    @Override
    public void onFailure(RuntimeException e) {
        end(EndReason.ERROR, 0, String.valueOf(e.getMessage()));
    }

    /** Closes the client: nothing of it reached a backend. */
    private void end(EndReason reason, int err, String why) {
        if (!closeClient(reason)) return;
        channel.release(); // a task still running on TlsTasks touches the engine only, never these buffers
        fl.clientLimits().release(ticket);
        fl.closed(this, new ConnectionRecord(forward, client, null, 0, 0, ageMs(), reason, err, why, routed, null));
    }

    @Override
    String phase() {
        return "tls-handshake";
    }

    /** No application byte has moved yet; the records read are the engine's. */
    @Override
    int held() {
        return 0;
    }

    @Override
    public void abortForShutdown() {
        end(EndReason.SHUTDOWN, 0, null);
    }
}
