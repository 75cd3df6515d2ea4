package org.epollproxy.stats;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.tls.TlsMetrics;

/**
 * {@code /metrics} for listeners that terminate TLS, labelled {@code forward} (the listening address):
 * handshakes done, resumed and failed (by {@code reason}: timeout, not-tls, client-closed, client-cert,
 * protocol, setup), their latency as a histogram, the bytes on the wire (TLS records) against the application
 * bytes inside them, and the clients that closed without close_notify. A failed handshake's connection is
 * also in {@code epollproxy_connections_closed_total{reason="tls-handshake"}}.
 */
final class TlsMetricsPage {

    static String render(List<Forward> forwards) {
        List<Forward> tls = new ArrayList<>();
        for (Forward f : forwards) if (f.tls() != null) tls.add(f);
        if (tls.isEmpty()) return backend(forwards);
        PrometheusText p = new PrometheusText();
        p.family("epollproxy_tls_handshakes_total", "counter", "TLS handshakes completed (resumed ones included).");
        for (Forward f : tls) p.sample(f.tls().metrics().done.sum(), "forward", f.bind().toString());
        p.family("epollproxy_tls_handshakes_resumed_total", "counter", "TLS handshakes that resumed an earlier session.");
        for (Forward f : tls) p.sample(f.tls().metrics().resumed.sum(), "forward", f.bind().toString());
        p.family("epollproxy_tls_handshake_failures_total", "counter", "TLS handshakes that failed, by reason.");
        failures(p, tls, CLIENT_SIDE, TlsMetrics.TIMEOUT, TlsMetrics.NOT_TLS, TlsMetrics.CLIENT_CLOSED, TlsMetrics.CLIENT_CERT,
                TlsMetrics.PROTOCOL, TlsMetrics.SETUP);
        p.family("epollproxy_tls_bytes_total", "counter",
                "Bytes of ended TLS connections: layer=wire (TLS records) or layer=plain (the application's bytes), direction=in (from clients) or out.");
        bytes(p, tls, CLIENT_SIDE);
        p.family("epollproxy_tls_truncated_total", "counter", "TLS clients that closed without close_notify.");
        for (Forward f : tls) p.sample(f.tls().metrics().truncated.sum(), "forward", f.bind().toString());
        return p.toString() + latency(tls, "epollproxy_tls_handshake_seconds", CLIENT_SIDE) + backend(forwards);
    }

    /**
     * Forwards that reach their backends over TLS: handshakes done and failed (reason: certificate, closed,
     * protocol, timeout), their latency from the backend's accept to a finished handshake, the bytes, and the backends that
     * closed without close_notify.
     */
    private static String backend(List<Forward> forwards) {
        List<Forward> tls = new ArrayList<>();
        for (Forward f : forwards) if (f.backendTls() != null) tls.add(f);
        if (tls.isEmpty()) return "";
        PrometheusText p = new PrometheusText();
        p.family("epollproxy_backend_tls_handshakes_total", "counter", "TLS handshakes with backends completed.");
        for (Forward f : tls) p.sample(f.backendTls().metrics().done.sum(), "forward", f.bind().toString());
        p.family("epollproxy_backend_tls_handshake_failures_total", "counter", "TLS handshakes with backends that failed, by reason.");
        failures(p, tls, BACKEND_SIDE, "certificate", "closed", TlsMetrics.PROTOCOL, TlsMetrics.TIMEOUT);
        p.family("epollproxy_backend_tls_bytes_total", "counter",
                "Bytes of ended backend TLS connections: layer=wire (TLS records) or layer=plain, direction=in (from backends) or out.");
        bytes(p, tls, BACKEND_SIDE);
        p.family("epollproxy_backend_tls_truncated_total", "counter", "Backends that closed their TLS stream without close_notify.");
        for (Forward f : tls) p.sample(f.backendTls().metrics().truncated.sum(), "forward", f.bind().toString());
        return p.toString() + latency(tls, "epollproxy_backend_tls_handshake_seconds", BACKEND_SIDE);
    }

    private static final Function<Forward, TlsMetrics> CLIENT_SIDE = f -> f.tls().metrics();
    private static final Function<Forward, TlsMetrics> BACKEND_SIDE = f -> f.backendTls().metrics();

    /** One sample per forward and reason; every reason named is there, at 0 until it happens. */
    private static void failures(PrometheusText p, List<Forward> tls, Function<Forward, TlsMetrics> side, String... reasons) {
        for (Forward f : tls) {
            Map<String, LongAdder> byReason = new TreeMap<>(side.apply(f).failed);
            for (String r : reasons) byReason.putIfAbsent(r, new LongAdder());
            for (Map.Entry<String, LongAdder> e : byReason.entrySet()) p.sample(e.getValue().sum(), "forward", f.bind().toString(), "reason", e.getKey());
        }
    }

    /** The bytes on the wire (TLS records) and inside them (plain), each way. */
    private static void bytes(PrometheusText p, List<Forward> tls, Function<Forward, TlsMetrics> side) {
        for (Forward f : tls) {
            TlsMetrics m = side.apply(f);
            String fw = f.bind().toString();
            p.sample(m.wireIn.sum(), "forward", fw, "layer", "wire", "direction", "in");
            p.sample(m.wireOut.sum(), "forward", fw, "layer", "wire", "direction", "out");
            p.sample(m.plainIn.sum(), "forward", fw, "layer", "plain", "direction", "in");
            p.sample(m.plainOut.sum(), "forward", fw, "layer", "plain", "direction", "out");
        }
    }

    /** The handshake latency histogram, written by hand: PrometheusText names every sample after its family. */
    private static String latency(List<Forward> tls, String name, Function<Forward, TlsMetrics> side) {
        StringBuilder sb = new StringBuilder("# HELP ").append(name).append(" Time from accept (of the client, or by the backend) to a completed TLS handshake.\n")
                .append("# TYPE ").append(name).append(" histogram\n");
        for (Forward f : tls) {
            TlsMetrics m = side.apply(f);
            String fw = "forward=\"" + f.bind().toString().replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
            long cumulative = 0;
            for (int i = 0; i < TlsMetrics.LATENCY_BUCKETS_MS.length; i++) {
                cumulative += m.latencyBuckets[i].sum();
                sb.append(name).append("_bucket{").append(fw).append(",le=\"").append(TlsMetrics.LATENCY_BUCKETS_MS[i] / 1000.0).append("\"} ")
                        .append(cumulative).append('\n');
            }
            long count = m.latencyCount.sum();
            sb.append(name).append("_bucket{").append(fw).append(",le=\"+Inf\"} ").append(count).append('\n');
            sb.append(name).append("_sum{").append(fw).append("} ").append(m.latencyMicrosSum.sum() / 1e6).append('\n');
            sb.append(name).append("_count{").append(fw).append("} ").append(count).append('\n');
        }
        return sb.toString();
    }

    private TlsMetricsPage() {}
}
