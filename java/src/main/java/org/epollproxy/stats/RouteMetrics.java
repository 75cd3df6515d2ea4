package org.epollproxy.stats;

import java.util.List;

/**
 * {@code /metrics} for listeners with routes: clients each route took, labelled {@code forward} (the
 * listening address) and {@code route} (its match, e.g. {@code sni:*.example.com}, or {@code default} for the
 * listener's own backends). Clients closed before a route was chosen are in
 * {@code epollproxy_connections_closed_total} by reason (no-route, preread-timeout, preread-too-long,
 * bad-client-hello); a route's backends are in the {@code epollproxy_server_*} series, whose forward label
 * then reads {@code ADDRESS route=NAME}.
 */
final class RouteMetrics {

    /** @param routes {listener address, route, count} */
    static String render(List<String[]> routes) {
        PrometheusText p = new PrometheusText();
        p.family("epollproxy_route_connections_total", "counter",
                "Clients a route took (route default: the listener's own backends), chosen by their first bytes.");
        for (String[] r : routes) p.sample(Long.parseLong(r[2]), "forward", r[0], "proto", "tcp", "route", r[1]);
        return p.toString();
    }

    private RouteMetrics() {}
}
