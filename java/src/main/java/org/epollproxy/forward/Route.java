package org.epollproxy.forward;

import java.util.List;
import java.util.Locale;

/**
 * One route of a listener: a match on what the client sends first and the forward that serves the clients
 * it matches ({@link #target()}: its own backends, balancing and health, PROXY header; same listening
 * address). A listener's routes are tried in the order given; the first that matches wins.
 *
 * <p>Matches, as written ({@link #name()} is that text, normalised): {@code sni:NAME} (the ClientHello's
 * server_name, case-insensitive; {@code sni:*.example.com} matches one or more labels before
 * {@code .example.com}, never {@code example.com} itself), {@code alpn:PROTO} (one of the protocols the client
 * offers), {@code proto:tls}, {@code proto:ssh} (also a client that sends nothing for the SSH wait: an SSH
 * server speaks first), {@code proto:http} (an HTTP/1.x request line), {@code any} (whatever the client sent).
 */
public final class Route {
    /** What a route looks at. */
    public enum Kind {
        SNI,
        ALPN,
        PROTO,
        ANY
    }

    private final String name;
    private final Kind kind;
    private final String value;
    private final Forward target;

    /** @param match the normalised match text ({@code config.RouteSpec} checks it) */
    public Route(String match, Forward target) {
        this.name = match;
        this.target = target;
        int colon = match.indexOf(':');
        if (match.equals("any")) {
            kind = Kind.ANY;
            value = "";
        } else if (colon > 0) {
            kind = Kind.valueOf(match.substring(0, colon).toUpperCase(Locale.ROOT));
            value = match.substring(colon + 1);
        } else {
            throw new IllegalArgumentException("not a route match: " + match);
        }
    }

    public String name() {
        return name;
    }

    public Kind kind() {
        return kind;
    }

    public Forward target() {
        return target;
    }

    /** True for a {@code proto:ssh} route: silent clients go to the first one. */
    public boolean isSsh() {
        return kind == Kind.PROTO && value.equals("ssh");
    }

    /**
     * @param proto "tls", "ssh", "http" or "other"
     * @param sni the server name (lower case), or null
     * @param alpn the protocols offered (TLS only)
     */
    public boolean matches(String proto, String sni, List<String> alpn) {
        switch (kind) {
            case ANY:
                return true;
            case PROTO:
                return value.equals(proto);
            case ALPN:
                return alpn.contains(value);
            default:
                if (sni == null) return false;
                if (!value.startsWith("*.")) return value.equals(sni);
                return sni.length() > value.length() - 1 && sni.endsWith(value.substring(1));
        }
    }

    /** The first route of {@code routes} that matches, or null. */
    public static Route first(List<Route> routes, String proto, String sni, List<String> alpn) {
        for (Route r : routes) if (r.matches(proto, sni, alpn)) return r;
        return null;
    }

    /** For reloads: the match and everything about its target. */
    boolean sameAs(Route o) {
        return name.equals(o.name) && target.sameTargetAs(o.target);
    }

    @Override
    public String toString() {
        return name + "=" + target.backendList();
    }
}
