package org.epollproxy.stats;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.epollproxy.forward.balance.BackendInfo;

/**
 * The per-backend part of {@code /metrics} (appended to {@link MetricsPage}'s text): for each backend
 * server of each TCP forward ({@code epollproxy_server_*} as haproxy names its servers; labels {@code forward},
 * {@code proto}, {@code backend}) its state, open connections,
 * connects, failures, checks and state changes, and each forward's balance policy as an info gauge. The
 * numbers come from the shared backend state (atomics), not from a loop snapshot: they are process-wide.
 */
final class BackendMetrics {

    static String render(List<BackendInfo> backends) {
        PrometheusText p = new PrometheusText();
        p.family("epollproxy_forward_balance_info", "gauge", "The forward's balance policy (label policy); always 1.");
        Map<String, BackendInfo> forwards = new LinkedHashMap<>();
        for (BackendInfo b : backends) forwards.putIfAbsent(b.proto() + " " + b.forward(), b);
        for (BackendInfo b : forwards.values()) p.sample(1, "forward", b.forward(), "proto", b.proto(), "policy", b.policy());
        p.family("epollproxy_server_up", "gauge",
                "1 if health says up, 0 if it is marked down (failed connects, or failed checks); new clients go only to "
                        + "an up backend whose epollproxy_server_admin_state is ready.");
        for (BackendInfo b : backends) p.sample(b.up() ? 1 : 0, ids(b));
        p.family("epollproxy_server_admin_state", "gauge",
                "1 for the operator's state of the backend (label state: ready, drain, disabled; epoll-proxy ctl), 0 for the others.");
        for (BackendInfo b : backends) {
            for (String st : new String[] {"ready", "drain", "disabled"}) p.sample(st.equals(b.admin()) ? 1 : 0, with(ids(b), "state", st));
        }
        p.family("epollproxy_server_weight", "gauge", "The backend's weight in its forward's balance policy.");
        for (BackendInfo b : backends) p.sample(b.weight(), ids(b));
        p.family("epollproxy_server_connections_open", "gauge", "Connections assigned to the backend now (connecting or open), every loop.");
        for (BackendInfo b : backends) p.sample(b.open(), ids(b));
        p.family("epollproxy_server_connects_total", "counter", "Connects to this backend that succeeded.");
        for (BackendInfo b : backends) p.sample(b.connects(), ids(b));
        p.family("epollproxy_server_connect_failures_total", "counter",
                "Connects to this backend that failed (refused, unreachable, timed out).");
        for (BackendInfo b : backends) p.sample(b.failures(), ids(b));
        p.family("epollproxy_server_checks_total", "counter", "Active checks of the backend, by result (passed, failed).");
        for (BackendInfo b : backends) {
            p.sample(b.checks() - b.checkFailures(), with(ids(b), "result", "passed"));
            p.sample(b.checkFailures(), with(ids(b), "result", "failed"));
        }
        p.family("epollproxy_server_state_changes_total", "counter", "Times the backend went down or came back up.");
        for (BackendInfo b : backends) p.sample(b.transitions(), ids(b));
        return p.toString();
    }

    private static String[] ids(BackendInfo b) {
        return new String[] {"forward", b.forward(), "proto", b.proto(), "backend", b.backend()};
    }

    private static String[] with(String[] labels, String... more) {
        String[] out = java.util.Arrays.copyOf(labels, labels.length + more.length);
        System.arraycopy(more, 0, out, labels.length, more.length);
        return out;
    }

    private BackendMetrics() {}
}
