package org.epollproxy.stats;

import java.util.regex.Pattern;

/**
 * The first line of a request head, {@code GET /connections?client=10.0.0.1 HTTP/1.1}: its method, its path
 * and its query (null when there is no {@code ?}).
 */
record RequestLine(String method, String path, String query) {
    /** Compiled once: 1,000 requests at once each compiling its own was a cost a probe waited behind. */
    private static final Pattern METHOD = Pattern.compile("[A-Z]{1,16}");
    private static final Pattern VERSION = Pattern.compile("HTTP/1\\.[01]");

    /** The request line of {@code head} (which holds at least one line end), or null if it is malformed. */
    static RequestLine parse(String head) {
        String[] line = head.substring(0, head.indexOf('\n')).strip().split(" ", -1);
        if (line.length != 3 || !METHOD.matcher(line[0]).matches() || !VERSION.matcher(line[2]).matches()) return null;
        String target = originForm(line[1]);
        if (!target.startsWith("/")) return null;
        int q = target.indexOf('?');
        return new RequestLine(line[0], q < 0 ? target : target.substring(0, q), q < 0 ? null : target.substring(q + 1));
    }

    /**
     * {@code http://host:port/metrics?x} as {@code /metrics?x}: HTTP/1.1 servers must accept the absolute form
     * (RFC 9112, 3.2.2), which a client configured with this port as its proxy sends. Anything else as given.
     */
    static String originForm(String target) {
        int scheme = target.regionMatches(true, 0, "http://", 0, 7) ? 7 : target.regionMatches(true, 0, "https://", 0, 8) ? 8 : -1;
        if (scheme < 0) return target;
        int path = target.indexOf('/', scheme);
        int query = target.indexOf('?', scheme);
        if (path < 0 || (query >= 0 && query < path)) return query < 0 ? "/" : "/" + target.substring(query);
        return target.substring(path);
    }
}
