package org.epollproxy.forward.tcp;

import static org.epollproxy.shim.Epoll.EPOLLIN;
import static org.epollproxy.shim.Epoll.EPOLLOUT;

import org.epollproxy.forward.Backend;
import org.epollproxy.forward.EndReason;
import org.epollproxy.shim.Errno;

/**
 * What TLS adds to a {@link Pair}: the handshake with the backend, which the connect phase ({@link Connector})
 * goes through before forwarding starts, and the records a TLS channel holds that epoll will not report again.
 * Made once per pair, and only for a pair with TLS on a side (a terminating listener's client, or a forward
 * with backend TLS): a plain pair has none.
 */
final class PairTls {
    private final Pair p;

    PairTls(Pair p) {
        this.p = p;
    }

    // ---- records waiting in a channel ----

    /** A read of the TLS client is queued on the loop (records wait decrypted-to-be, the socket will not tell). */
    private boolean tlsReadQueued;

    /**
     * Whole TLS records received but not yet decrypted (the buffer they were read for was full) wait in the
     * channel, and epoll will not report them again: read them on the loop's next turn.
     */
    void tlsInputCheck() {
        if (tlsReadQueued) return;
        Side s = p.client.tls != null && p.up.wantsRead() && p.client.tls.inputReady() ? p.client
                : p.backend.tls != null && !p.connector.connecting && p.down.wantsRead() && p.backend.tls.inputReady() ? p.backend : null;
        if (s == null) return;
        tlsReadQueued = true;
        p.loop.execute(() -> {
            tlsReadQueued = false;
            if (!p.closed) p.onEvent(s, EPOLLIN);
        });
    }

    /** The client came from a TLS handshake: records it sent right after it may already wait in the channel. */
    void afterTlsHandshake() {
        if (!p.closed) tlsInputCheck();
    }

    /** Sends the TLS records waiting for the socket of {@code s}. False if the pair closed. */
    boolean flushTls(Side s) {
        int rc = s.tls.flush();
        if (rc == -Errno.EAGAIN) return true;
        if (rc < 0) {
            PairEnd.abort(p, s, rc);
            return false;
        }
        return true;
    }

    // ---- TLS to the backend ----

    /** What the backend's TLS handshake waits for (EPOLLIN, EPOLLOUT, or 0 while a task runs off the loop). */
    int backendTlsMask;
    /** Why the backend's TLS failed, for the end line; null if it did not. */
    String backendTlsWhy;
    /** When the backend's TLS handshake began (loop clock), for its latency. */
    private long backendTlsStart;

    /** The backend accepted the connect: start TLS with it (still "connecting" for the rest of the pair). */
    void startBackendTls(Backend b) {
        backendTlsStart = p.loop.now();
        backendTlsWhy = null; // a backend tried before timed out: its own log line said so; this one starts clean
        try {
            p.backend.tls = new org.epollproxy.forward.tls.TlsChannel(p.forward.backendTls().newEngine(b.host(), b.address().port()), p.k, p.pool(),
                    p.backend.fd, p.forward.backendTls().metrics());
        } catch (javax.net.ssl.SSLException e) {
            backendTlsFailed(e.getMessage());
            return;
        }
        stepBackendTls();
    }

    void stepBackendTls() {
        int rc;
        try {
            rc = p.backend.tls.handshake();
        } catch (javax.net.ssl.SSLException e) {
            p.backend.tls.sendAlert();
            String why = String.valueOf(e.getMessage());
            if (e.getCause() != null && e.getCause().getMessage() != null && !why.contains(e.getCause().getMessage())) why += ": " + e.getCause().getMessage();
            backendTlsFailed(why);
            return;
        }
        switch (rc) {
            case org.epollproxy.forward.tls.TlsChannel.DONE -> {
                p.forward.backendTls().metrics().handshakeDone(p.loop.now() - backendTlsStart, false);
                if (p.fl.settings().trace()) p.fl.log().info("tls backend fd " + p.backend.fd + " handshake done: " + p.backend.tls.summary());
                p.connector.established();
            }
            case org.epollproxy.forward.tls.TlsChannel.WANT_READ -> backendMask(EPOLLIN);
            case org.epollproxy.forward.tls.TlsChannel.WANT_WRITE -> backendMask(EPOLLOUT);
            case org.epollproxy.forward.tls.TlsChannel.WANT_TASK -> {
                backendMask(0);
                org.epollproxy.forward.tls.TlsChannel engine = p.backend.tls;
                org.epollproxy.forward.tls.TlsTasks.run(engine, p.loop, () -> {
                    // only for that engine: a connect timeout meanwhile moves on to the next backend and its own
                    if (!p.closed && p.backend.tls == engine) stepBackendTls();
                });
            }
            case org.epollproxy.forward.tls.TlsChannel.PEER_CLOSED -> backendTlsFailed("the backend closed during the TLS handshake");
            default -> backendTlsFailed(p.backend.tls.failure() != null ? p.backend.tls.failure() // what the channel refused (-EIO)
                    : "the backend's socket failed during the TLS handshake: " + Errno.describe(rc));
        }
    }

    private void backendMask(int mask) {
        backendTlsMask = mask;
        p.setInterest(p.backend, mask);
    }

    /** The backend's TLS handshake failed (its certificate, its name, its protocol): the pair ends, said why. */
    private void backendTlsFailed(String why) {
        backendTlsWhy = why == null ? "backend TLS handshake failed" : why;
        p.forward.backendTls().metrics().handshakeFailed(org.epollproxy.forward.tls.TlsMetrics.backendReason(backendTlsWhy));
        if (p.client.fd >= 0) p.k.set_linger(p.client.fd, 1, 0);
        PairEnd.close(p, EndReason.BACKEND_TLS, 0);
    }
}
