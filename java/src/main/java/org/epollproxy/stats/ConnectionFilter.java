package org.epollproxy.stats;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import org.epollproxy.forward.ConnectionInfo;

/**
 * {@code /connections?forward=A&client=B&backend=C}: which connections to list. Each given value must
 * equal the field as listed ({@code 127.0.0.1:9000}, {@code [::1]:9000}, a UNIX path) or its address
 * without the port ({@code 127.0.0.1}, {@code ::1}), so one client host's connections are one query.
 * Values are URL-decoded ({@code %5B::1%5D:9000}); a parameter given twice takes the last value.
 */
record ConnectionFilter(String forward, String client, String backend) {
    static final ConnectionFilter ALL = new ConnectionFilter(null, null, null);

    /** The filter of a query string (null: none); IllegalArgumentException naming the bad parameter. */
    static ConnectionFilter parse(String query) {
        String forward = null, client = null, backend = null;
        if (query == null || query.isEmpty()) return ALL;
        for (String pair : query.split("&")) {
            if (pair.isEmpty()) continue;
            int eq = pair.indexOf('=');
            String name = eq < 0 ? pair : pair.substring(0, eq);
            String value;
            try {
                value = URLDecoder.decode(eq < 0 ? "" : pair.substring(eq + 1), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("bad %-escape in parameter '" + name + "'");
            }
            switch (name) {
                case "forward": forward = value; break;
                case "client": client = value; break;
                case "backend": backend = value; break;
                default:
                    throw new IllegalArgumentException("unknown parameter '" + name + "'; /connections takes forward=, client= and backend=");
            }
        }
        return new ConnectionFilter(forward, client, backend);
    }

    boolean matches(ConnectionInfo c) {
        return matches(forward, c.forward()) && matches(client, c.client()) && matches(backend, c.backend());
    }

    private static boolean matches(String want, String field) {
        if (want == null || want.equals(field)) return true;
        int colon = field.lastIndexOf(':');
        if (colon < 0 || field.startsWith("/")) return false; // a UNIX path: only the whole path
        String host = field.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        return want.equals(host);
    }
}
