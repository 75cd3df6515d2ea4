package org.epollproxy.forward.tls;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of one TLS listener, shared by every loop (written once per handshake or connection, not per
 * byte): handshakes done, resumed and failed (by reason), their latency, and the bytes on the wire (TLS
 * records) against the bytes of the application inside them.
 */
public final class TlsMetrics {
    /** Why handshakes failed, as the metric's reason label says it. */
    public static final String TIMEOUT = "timeout";
    public static final String NOT_TLS = "not-tls";
    public static final String CLIENT_CLOSED = "client-closed";
    public static final String CLIENT_CERT = "client-cert";
    public static final String PROTOCOL = "protocol";
    /** No engine could be made for the client (a security policy that disables every protocol we offer...). */
    public static final String SETUP = "setup";

    /** Upper bounds of the latency buckets, in milliseconds (Prometheus histogram, cumulative). */
    public static final long[] LATENCY_BUCKETS_MS = {1, 2, 5, 10, 25, 50, 100, 250, 1000, 5000};

    public final LongAdder done = new LongAdder();
    public final LongAdder resumed = new LongAdder();
    public final Map<String, LongAdder> failed = new ConcurrentHashMap<>();
    public final LongAdder[] latencyBuckets = new LongAdder[LATENCY_BUCKETS_MS.length];
    public final LongAdder latencyCount = new LongAdder();
    public final LongAdder latencyMicrosSum = new LongAdder();
    /** TLS records received from / sent to clients, and the application bytes they carried. */
    public final LongAdder wireIn = new LongAdder();
    public final LongAdder wireOut = new LongAdder();
    public final LongAdder plainIn = new LongAdder();
    public final LongAdder plainOut = new LongAdder();
    /** Peers (clients, or backends for backend TLS) that closed without close_notify (a truncation attack, or a careless peer). */
    public final LongAdder truncated = new LongAdder();

    public TlsMetrics() {
        for (int i = 0; i < latencyBuckets.length; i++) latencyBuckets[i] = new LongAdder();
    }

    public void handshakeDone(long nanos, boolean wasResumed) {
        done.increment();
        if (wasResumed) resumed.increment();
        latencyCount.increment();
        latencyMicrosSum.add(nanos / 1000);
        long ms = nanos / 1_000_000;
        for (int i = 0; i < LATENCY_BUCKETS_MS.length; i++) {
            if (ms < LATENCY_BUCKETS_MS[i]) {
                latencyBuckets[i].increment();
                return;
            }
        }
    }

    /** Why a handshake with a backend failed, for its reason label: certificate, closed or protocol. */
    public static String backendReason(String why) {
        String m = why.toLowerCase(java.util.Locale.ROOT);
        if (m.contains("certificate") || m.contains("pkix") || m.contains("subject alternative") || m.contains("certpath")) return "certificate";
        if (m.contains("closed") || m.contains("socket failed")) return "closed";
        return PROTOCOL;
    }

    public void handshakeFailed(String reason) {
        failed.computeIfAbsent(reason, r -> new LongAdder()).increment();
    }

    /** A TLS connection ended: what crossed the wire and what it carried. */
    public void closed(TlsChannel c) {
        wireIn.add(c.wireIn());
        wireOut.add(c.wireOut());
        plainIn.add(c.plainIn());
        plainOut.add(c.plainOut());
        if (c.truncated()) truncated.increment();
    }
}
