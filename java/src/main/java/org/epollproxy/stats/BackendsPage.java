package org.epollproxy.stats;

import java.time.Instant;
import java.util.List;
import org.epollproxy.forward.balance.BackendInfo;

/**
 * {@code /backends}: every backend of every TCP forward as JSON, e.g.
 * {@code {"forward": "127.0.0.1:9000", "policy": "roundrobin", "backend": "10.0.0.5:8080", "weight": 1,
 * "state": "down", "down_reason": "checks", "admin": "drain", "name": "app.internal", "last_seen": "2026-...Z", "open": 0, ..., "last_failure": "check: connection refused"}}.
 * Self-contained: it needs only the process-wide backend state, no loop snapshot.
 */
final class BackendsPage {

    static String render(List<BackendInfo> backends) {
        StringBuilder sb = new StringBuilder(256).append("{\"backends\": [");
        for (int i = 0; i < backends.size(); i++) {
            sb.append(i == 0 ? "\n  " : ",\n  ");
            object(sb, backends.get(i));
        }
        return sb.append(backends.isEmpty() ? "]}\n" : "\n]}\n").toString();
    }

    private static void object(StringBuilder sb, BackendInfo b) {
        sb.append("{\"forward\": ");
        Json.string(sb, b.forward());
        sb.append(", \"proto\": ");
        Json.string(sb, b.proto());
        sb.append(", \"policy\": ");
        Json.string(sb, b.policy());
        sb.append(", \"backend\": ");
        Json.string(sb, b.backend());
        sb.append(", \"weight\": ").append(b.weight());
        sb.append(", \"state\": ");
        Json.string(sb, b.up() ? "up" : "down");
        sb.append(", \"down_reason\": ");
        nullable(sb, b.downReason());
        sb.append(", \"admin\": ");
        Json.string(sb, b.admin());
        sb.append(", \"name\": ");
        nullable(sb, b.name());
        sb.append(", \"last_seen\": ");
        nullable(sb, b.lastSeenMillis() == 0 ? null : Instant.ofEpochMilli(b.lastSeenMillis()).toString());
        sb.append(", \"open\": ").append(b.open());
        sb.append(", \"connects\": ").append(b.connects());
        sb.append(", \"connect_failures\": ").append(b.failures());
        sb.append(", \"checks\": ").append(b.checksOn());
        sb.append(", \"checks_run\": ").append(b.checks());
        sb.append(", \"checks_failed\": ").append(b.checkFailures());
        sb.append(", \"state_changes\": ").append(b.transitions());
        sb.append(", \"last_check\": ");
        nullable(sb, b.lastCheckMillis() == 0 ? null : Instant.ofEpochMilli(b.lastCheckMillis()).toString());
        sb.append(", \"last_check_result\": ");
        nullable(sb, b.lastCheck());
        sb.append(", \"last_failure\": ");
        nullable(sb, b.lastFailureMillis() == 0 ? null : Instant.ofEpochMilli(b.lastFailureMillis()).toString());
        sb.append(", \"last_failure_reason\": ");
        nullable(sb, b.lastFailure());
        sb.append('}');
    }

    private static void nullable(StringBuilder sb, String s) {
        if (s == null) sb.append("null");
        else Json.string(sb, s);
    }

    private BackendsPage() {}
}
