package org.epollproxy.forward.tcp;

import org.epollproxy.forward.BufferPool;
import org.epollproxy.forward.ConnectionRecord;
import org.epollproxy.forward.EndReason;
import org.epollproxy.forward.ForwardStats;
import org.epollproxy.shim.Errno;

/**
 * How a {@link Pair} ends: an error on one side (RST the other), a handler that threw, a reset of both (proxy
 * shutdown, backend disabled), and the close itself, exactly once: both sockets, the buffers, the backend and
 * client-table places given back, the end reason counted and the end line with its record. Static methods on
 * the pair: nothing is made to end one.
 */
final class PairEnd {

    /** A recv/send/shutdown on {@code failed} returned an error: RST the other side and close both. */
    static void abort(Pair p, Side failed, int err) {
        Side other = failed == p.client ? p.backend : p.client;
        if (other.fd >= 0) p.k.set_linger(other.fd, 1, 0);
        if (failed.tls != null && failed.tls.failure() != null) {
            failed.tls.sendAlert();
            close(p, EndReason.TLS_ERROR, 0);
            return;
        }
        close(p, failed == p.client ? EndReason.CLIENT_RESET : EndReason.BACKEND_RESET, err);
    }

    /**
     * A handler threw: the loop logged it; drop this pair with RSTs, the loop serves on. No memory for a
     * buffer ({@link BufferPool.OutOfBuffers}) ends the pair the same way, counted, with errno=ENOMEM.
     */
    static void fail(Pair p, RuntimeException e) {
        if (e instanceof BufferPool.OutOfBuffers) {
            p.fl.counters().bufferAllocFailures++;
            resetBoth(p, EndReason.ERROR, -Errno.ENOMEM);
            return;
        }
        resetBoth(p, EndReason.ERROR, 0);
    }

    static void resetBoth(Pair p, EndReason reason, int err) {
        if (p.closed) return;
        if (p.client.fd >= 0) p.k.set_linger(p.client.fd, 1, 0);
        if (p.backend.fd >= 0) p.k.set_linger(p.backend.fd, 1, 0);
        close(p, reason, err);
    }

    /** Closes both sockets exactly once, returns buffers to the pool and reports the end. */
    static void close(Pair p, EndReason reason, int err) {
        if (p.closed) return;
        p.closed = true;
        p.loop.cancel(p);
        p.connector.unpark();
        p.connector.release();
        // Bytes read but not delivered (a timeout or shutdown while a peer was slow): a FIN would tell the
        // receiver its stream ended complete. An RST tells it the truth.
        if (p.up.pending() && p.backend.fd >= 0) p.k.set_linger(p.backend.fd, 1, 0);
        if (p.down.pending() && p.client.fd >= 0) p.k.set_linger(p.client.fd, 1, 0);
        p.up.release();
        p.down.release();
        String tlsText = null;
        String why = null;
        if (p.client.tls != null) {
            tlsText = p.client.tls.summary();
            why = p.client.tls.failure() != null ? p.client.tls.failure()
                    : p.client.tls.truncated() ? "the client closed without close_notify (truncated TLS stream)" : null;
            p.client.tls.release();
        }
        String backendTlsWhy = p.pairTls == null ? null : p.pairTls.backendTlsWhy;
        if (backendTlsWhy != null && why == null) why = backendTlsWhy;
        if (p.backend.tls != null && why == null) why = backendTlsWhy(p.backend.tls);
        if (p.backend.tls != null && tlsText == null && backendTlsWhy == null) tlsText = "backend " + p.backend.tls.summary();
        closeSide(p, p.client);
        closeSide(p, p.backend);
        p.fl.clientLimits().release(p.clientTicket);
        ForwardStats st = p.stats();
        st.active--;
        p.addOpenBytes(st);
        st.ended(reason);
        p.fl.closed(p, new ConnectionRecord(p.forward, p.clientAddr, p.currentBackend(), p.up.bytesOut, p.down.bytesOut,
                (p.loop.now() - p.startNanos) / 1_000_000, reason, err, why, p.routed, tlsText));
    }

    /**
     * After the backend's handshake: what its TLS stream did wrong, as the client's is told. A record the engine
     * refused (an alert, a bad MAC) is what ended the pair as tls-error; a FIN without close_notify is a truncation
     * the client cannot see (it gets a plain FIN), so the log says it. Null if the backend's stream was clean.
     */
    private static String backendTlsWhy(org.epollproxy.forward.tls.TlsChannel tls) {
        if (tls.failure() != null) return "backend TLS: " + tls.failure();
        return tls.truncated() ? "the backend closed without close_notify (truncated TLS stream)" : null;
    }

    static void closeSide(Pair p, Side s) {
        if (s.tls != null && s == p.backend) {
            s.tls.release();
            s.tls = null; // a next backend (after a failed connect or handshake) gets a new engine
        }
        if (s.fd < 0) return;
        p.loop.release(s.token, false);
        p.k.close(s.fd);
        s.fd = -1;
    }

    private PairEnd() {}
}
