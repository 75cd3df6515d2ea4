package org.epollproxy.stats;

import org.epollproxy.forward.ClientLimits;
import org.epollproxy.runtime.ProxyServer;

/** {@code /metrics}: the per-client table (--max-connections-per-client, --client-rate), process-wide. */
final class ClientTableMetrics {

    static String render(ProxyServer proxy) {
        ClientLimits t = proxy == null ? null : proxy.clientLimits();
        if (t == null) return "";
        PrometheusText p = new PrometheusText();
        p.family("epollproxy_client_table_addresses", "gauge",
                "Client addresses (IPv4 address, IPv6 /64) tracked for the per-client limits; at most client_table_capacity.");
        p.sample(t.size());
        p.family("epollproxy_client_table_capacity", "gauge", "--client-table-size: the most addresses tracked.");
        p.sample(t.capacity());
        p.family("epollproxy_client_table_forgotten_total", "counter", "Idle addresses forgotten to make room for new ones.");
        p.sample(t.forgotten());
        p.family("epollproxy_client_table_overflow_total", "counter",
                "Connections admitted through the overflow: their address found the table full of addresses that could "
                + "not be forgotten; all such addresses share one client's limits.");
        p.sample(t.overflowed());
        p.family("epollproxy_client_table_overflow_connections", "gauge",
                "Connections open now through the overflow (at most --max-connections-per-client).");
        p.sample(t.overflowOpen());
        p.family("epollproxy_client_table_outside_addresses", "gauge",
                "Addresses outside the full table still remembered (connections open through the overflow or a rate bucket not yet full).");
        p.sample(t.outside());
        return p.toString();
    }

    private ClientTableMetrics() {}
}
