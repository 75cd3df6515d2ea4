package org.epollproxy.forward;

import java.util.List;

/**
 * How a connection was routed: the route that took it ({@code default} for the listener's own backends) and
 * what its first bytes said. For the log line, {@code /connections} and the per-route counters.
 *
 * @param route the route's name (its match, e.g. {@code sni:*.example.com}), {@code default}, or {@code -}
 *     when none was chosen (the client was closed before)
 * @param proto what the first bytes were: {@code tls}, {@code ssh}, {@code http}, {@code other}, or
 *     {@code silent} (nothing came within the SSH wait)
 * @param sni the TLS server name (lower case), or null
 * @param alpn the ALPN protocols offered, in order
 */
public record Routed(String route, String proto, String sni, List<String> alpn) {
    public static final String DEFAULT = "default";

    public Routed {
        alpn = List.copyOf(alpn);
    }

    /** "h2,http/1.1", or "-" for none. */
    public String alpnText() {
        return alpn.isEmpty() ? "-" : String.join(",", alpn);
    }
}
