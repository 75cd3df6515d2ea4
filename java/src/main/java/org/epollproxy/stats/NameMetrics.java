package org.epollproxy.stats;

import java.util.List;
import org.epollproxy.forward.balance.ResolvedName;

/**
 * The backend names re-resolved while running ({@code --resolve-interval}), in {@code /metrics}: per name
 * the addresses in use, and the resolutions that failed (the last good set kept) or changed the set.
 */
final class NameMetrics {

    static String render(List<ResolvedName> names) {
        if (names.isEmpty()) return "";
        PrometheusText p = new PrometheusText();
        p.family("epollproxy_resolve_addresses", "gauge", "Addresses of the backend name in use now (the last good answer).");
        for (ResolvedName n : names) p.sample(n.addresses(), "name", n.name());
        p.family("epollproxy_resolve_failures_total", "counter",
                "Resolutions of the name that failed or came back empty; the last good set of addresses was kept.");
        for (ResolvedName n : names) p.sample(n.failures(), "name", n.name());
        p.family("epollproxy_resolve_changes_total", "counter", "Resolutions that changed the name's set of addresses.");
        for (ResolvedName n : names) p.sample(n.changes(), "name", n.name());
        return p.toString();
    }

    private NameMetrics() {}
}
