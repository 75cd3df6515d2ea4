package org.epollproxy.cli;

import org.epollproxy.config.SpecException;
import org.epollproxy.shim.SockAddr;

/**
 * The {@code --stats [BIND:]PORT} argument: where the HTTP stats endpoint listens. BIND defaults to
 * 127.0.0.1 (metrics and the connection list name clients and backends: not for the world by
 * accident); {@code *:} or {@code 0.0.0.0:} for every interface, IPv6 in brackets ({@code [::1]:9100}).
 */
final class StatsOption {

    static SockAddr parse(String text) throws SpecException, Resolver.ResolveException {
        int colon = text.lastIndexOf(':');
        if (colon >= 0 && text.indexOf(']') > colon) colon = -1; // only inside brackets: no BIND part
        String host = colon < 0 ? null : text.substring(0, colon);
        String port = text.substring(colon + 1);
        if (port.isEmpty() || port.length() > 5 || !port.chars().allMatch(c -> c >= '0' && c <= '9')
                || Integer.parseInt(port) > 65535) {
            throw new SpecException("port \"" + port + "\" is not a number 0-65535", colon + 1);
        }
        if (host != null) {
            if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
            else if (host.equals("*")) host = "";
            else if (host.contains(":") || host.contains("[") || host.contains("]")) {
                throw new SpecException("bad BIND \"" + host + "\" (IPv6 goes in brackets: [::1]:9100)", 0);
            }
        }
        return Resolver.address(Resolver.bindHost(host), Integer.parseInt(port), "--stats " + text);
    }

    private StatsOption() {}
}
