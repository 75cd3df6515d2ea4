package org.epollproxy.config;

import java.util.Locale;

/**
 * A parsed {@code --route} argument: a listening address, a match, and the route's backends:
 *
 * <pre>
 *   [BIND:]PORT:MATCH=HOST:PORT[,HOST:PORT...]
 *   443:sni:a.example.com=10.0.0.5:443      443:sni:*.example.com=10.0.0.6:443,10.0.0.7:443
 *   443:alpn:acme-tls/1=127.0.0.1:8444      443:proto:ssh=127.0.0.1:22      443:any=127.0.0.1:8080
 * </pre>
 *
 * The first '=' ends the match; BIND and the backends are written as in {@code -L} ({@link ForwardSpec}).
 * MATCH is {@code sni:NAME}, {@code sni:*.DOMAIN}, {@code alpn:PROTO}, {@code proto:tls|ssh|http} or
 * {@code any} ({@link #checkMatch}).
 *
 * @param spec the listening address and the route's backends
 * @param match the match, normalised (a name in lower case, without a trailing dot)
 */
public record RouteSpec(ForwardSpec spec, String match) {

    /** The most bytes of an ALPN protocol name (RFC 7301: 1-255). */
    static final int MAX_ALPN = 255;

    public static RouteSpec parse(String text) throws SpecException {
        if (text == null || text.isEmpty()) throw new SpecException("empty route specification", 0);
        int eq = text.indexOf('=');
        if (eq < 0) throw new SpecException("expected [BIND:]PORT:MATCH=HOST:PORT (no '=' before the backends)", 0);
        String left = text.substring(0, eq);
        int at = matchStart(left);
        if (at < 0) {
            throw new SpecException("expected [BIND:]PORT:MATCH=HOST:PORT with MATCH sni:NAME, alpn:PROTO, proto:tls|ssh|http or any, in \""
                    + left + "\"", 0);
        }
        String match = checkMatch(left.substring(at), at, 0);
        String bind = left.substring(0, at - 1);
        if (ForwardSpec.isPath(bind)) throw new SpecException("a route listens on a TCP port, not a UNIX socket path", 0);
        ForwardSpec spec;
        try {
            spec = ForwardSpec.parse(bind + ":" + text.substring(eq + 1), "tcp");
        } catch (SpecException e) {
            // positions after the bind part are shifted by the match we took out
            int p = e.position() < bind.length() ? e.position() : e.position() + (eq - bind.length());
            throw new SpecException(e.getMessage(), p);
        }
        if (spec.bindPort() == 0) throw new SpecException("a route needs a fixed port (port 0 cannot be shared with -L)", 0);
        return new RouteSpec(spec, match);
    }

    /** Where MATCH starts in "[BIND:]PORT:MATCH" (after the ':' that ends PORT), or -1. */
    private static int matchStart(String left) {
        int best = -1;
        for (String kind : new String[] {":sni:", ":alpn:", ":proto:"}) {
            int i = left.indexOf(kind);
            if (i > 0 && (best < 0 || i + 1 < best)) best = i + 1;
        }
        if (best > 0) return best;
        return left.endsWith(":any") ? left.length() - 3 : -1;
    }

    /**
     * Checks a match and returns it normalised; SpecException at {@code position} (and {@code line}) naming
     * what is wrong otherwise. Shared by {@code --route} and the config file's {@code route} lines.
     */
    public static String checkMatch(String m, int position, int line) throws SpecException {
        if (m.equals("any")) return m;
        int colon = m.indexOf(':');
        String kind = colon < 0 ? m : m.substring(0, colon);
        String value = colon < 0 ? "" : m.substring(colon + 1);
        switch (kind) {
            case "sni":
                return "sni:" + hostPattern(value, position + 4, line);
            case "alpn":
                if (value.isEmpty() || value.length() > MAX_ALPN || !value.chars().allMatch(c -> c > 0x20 && c < 0x7f && c != ',' && c != '=')) {
                    throw new SpecException("alpn:" + value + ": a protocol name is 1-255 printable ASCII characters without ',' or '='",
                            position, line);
                }
                return "alpn:" + value;
            case "proto":
                if (!value.equals("tls") && !value.equals("ssh") && !value.equals("http")) {
                    throw new SpecException("proto:" + value + ": expected proto:tls, proto:ssh or proto:http", position, line);
                }
                return m;
            default:
                throw new SpecException("unknown match \"" + m + "\" (expected sni:NAME, alpn:PROTO, proto:tls|ssh|http or any)", position, line);
        }
    }

    /** A host name or a leading wildcard ({@code *.example.com}): LDH labels and '_', lower-cased, no trailing dot. */
    private static String hostPattern(String v, int position, int line) throws SpecException {
        String name = v.toLowerCase(Locale.ROOT);
        if (name.endsWith(".")) name = name.substring(0, name.length() - 1);
        String labels = name.startsWith("*.") ? name.substring(2) : name;
        boolean ok = !labels.isEmpty() && labels.length() <= 253 && !labels.startsWith(".") && !labels.contains("..")
                && labels.chars().allMatch(c -> (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_');
        if (!ok) {
            throw new SpecException("sni:" + v + ": expected a host name (letters, digits, '-', '_', '.') or *.DOMAIN "
                    + "(a leading wildcard, one or more labels)", position, line);
        }
        return name;
    }
}
