package org.epollproxy.stats;

import java.util.List;
import org.epollproxy.forward.ConnectionInfo;
import org.epollproxy.shim.Epoll;

/**
 * {@code /connections}: one JSON object per open connection, e.g. a backend sending faster than its
 * client reads shows {@code "buffered_down": 32768, "client_interest": "IN|OUT", "backend_interest": "none"}:
 * the proxy waits for the client's socket to drain (OUT) and has stopped reading the backend. Each
 * entry also names the proxy's own end toward the backend ({@code "local"}, what the backend logs) and
 * the time since the last byte ({@code "idle_seconds"}); {@code ?forward=&client=&backend=} narrow the
 * list ({@link ConnectionFilter}).
 */
final class ConnectionsPage {

    static String render(List<LoopSnapshot> snapshots) {
        return render(snapshots, ConnectionFilter.ALL);
    }

    /** The connections {@code filter} matches; "loops" and "loops_answered" count every loop. */
    static String render(List<LoopSnapshot> snapshots, ConnectionFilter filter) {
        StringBuilder sb = new StringBuilder(256);
        int answered = 0;
        for (LoopSnapshot s : snapshots) if (s != null) answered++;
        sb.append("{\"loops\": ").append(snapshots.size()).append(", \"loops_answered\": ").append(answered);
        sb.append(", \"connections\": [");
        boolean first = true;
        for (LoopSnapshot s : snapshots) {
            if (s == null) continue;
            for (ConnectionInfo c : s.connections()) {
                if (!filter.matches(c)) continue;
                sb.append(first ? "\n  " : ",\n  ");
                first = false;
                object(sb, c);
            }
        }
        return sb.append(first ? "]}\n" : "\n]}\n").toString();
    }

    private static void object(StringBuilder sb, ConnectionInfo c) {
        sb.append("{\"loop\": ").append(c.loop());
        sb.append(", \"forward\": ");
        Json.string(sb, c.forward());
        sb.append(", \"client\": ");
        Json.string(sb, c.client());
        sb.append(", \"backend\": ");
        Json.string(sb, c.backend());
        sb.append(", \"local\": ");
        Json.string(sb, c.local());
        sb.append(", \"state\": ");
        Json.string(sb, c.state());
        sb.append(", \"age_seconds\": ").append(seconds(c.ageNanos()));
        sb.append(", \"idle_seconds\": ").append(seconds(c.idleNanos()));
        sb.append(", \"bytes_up\": ").append(c.bytesUp());
        sb.append(", \"bytes_down\": ").append(c.bytesDown());
        sb.append(", \"buffered_up\": ").append(c.bufferedUp());
        sb.append(", \"buffered_down\": ").append(c.bufferedDown());
        sb.append(", \"client_interest\": ");
        Json.string(sb, mask(c.clientInterest()));
        sb.append(", \"backend_interest\": ");
        Json.string(sb, mask(c.backendInterest()));
        sb.append(", \"path\": ");
        Json.string(sb, c.path());
        if (c.routed() != null) { // a listener with routes: which one took it, and what the client's first bytes named
            sb.append(", \"route\": ");
            Json.string(sb, c.routed().route());
            sb.append(", \"sni\": ");
            if (c.routed().sni() == null) sb.append("null");
            else Json.string(sb, c.routed().sni());
            sb.append(", \"alpn\": [");
            for (int i = 0; i < c.routed().alpn().size(); i++) {
                if (i > 0) sb.append(", ");
                Json.string(sb, c.routed().alpn().get(i));
            }
            sb.append(']');
        }
        if (c.tls() != null) { // a client of a TLS-terminating listener
            sb.append(", \"tls\": ");
            Json.string(sb, c.tls());
            sb.append(", \"client_subject\": ");
            if (c.tlsSubject() == null) sb.append("null");
            else Json.string(sb, c.tlsSubject());
        }
        sb.append('}');
    }

    private static String seconds(long nanos) {
        return String.format(java.util.Locale.ROOT, "%.3f", nanos / 1e9);
    }

    /** "IN|OUT" as in --trace; "none" when the socket is not in the epoll set. */
    private static String mask(int m) {
        return m == 0 ? "none" : Epoll.describe(m);
    }

    private ConnectionsPage() {}
}
