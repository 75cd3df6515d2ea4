package org.epollproxy.config;

import java.util.ArrayList;
import java.util.List;

/**
 * A parsed {@code -L}/{@code -U} argument, ssh's grammar plus failover backends:
 *
 * <pre>
 *   [BIND:]PORT:HOST:HOSTPORT[,HOST:HOSTPORT...]
 * </pre>
 *
 * IPv6 literals go in brackets ({@code [::1]:9000:[::1]:8000}). BIND omitted means 127.0.0.1, as in
 * ssh; an empty BIND or {@code *} means every interface (0.0.0.0). PORT 0 asks the kernel for a free
 * port. Nothing is resolved here: hosts stay text until {@link Resolver}.
 *
 * @param bindHost null when omitted (loopback), "" for all interfaces, else the text given
 */
public record ForwardSpec(String proto, String bindHost, int bindPort, List<HostPort> backends) {

    /** A host as written (brackets removed from IPv6 literals) and a port. */
    public record HostPort(String host, int port) {
        @Override
        public String toString() {
            return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
        }
    }

    public ForwardSpec {
        backends = List.copyOf(backends);
    }

    /** The spec as it would be written back (a parse of this text gives an equal spec). */
    public String format() {
        StringBuilder sb = new StringBuilder();
        if (bindHost != null) {
            sb.append(bindHost.isEmpty() ? "*" : bindHost.indexOf(':') >= 0 ? "[" + bindHost + "]" : bindHost).append(':');
        }
        sb.append(bindPort);
        for (int i = 0; i < backends.size(); i++) sb.append(i == 0 ? ":" : ",").append(backends.get(i));
        return sb.toString();
    }

    /** Parses {@code text}; {@code proto} is "tcp" (-L) or "udp" (-U). */
    public static ForwardSpec parse(String text, String proto) throws SpecException {
        if (text == null || text.isEmpty()) throw new SpecException("empty forward specification", 0);
        List<int[]> segments = split(text, ',', 0, text.length());
        int[] first = segments.get(0);
        List<int[]> parts = split(text, ':', first[0], first[1]);
        String bindHost = null;
        int i = 0;
        if (parts.size() == 4) {
            bindHost = host(text, parts.get(0), true);
            i = 1;
        } else if (parts.size() != 3) {
            throw new SpecException("expected [BIND:]PORT:HOST:HOSTPORT, found " + parts.size()
                    + " part(s) separated by ':' in \"" + text.substring(first[0], first[1]) + "\" (IPv6 goes in brackets)", first[0]);
        }
        int bindPort = port(text, parts.get(i), true);
        List<HostPort> backends = new ArrayList<>();
        backends.add(new HostPort(host(text, parts.get(i + 1), false), port(text, parts.get(i + 2), false)));
        for (int s = 1; s < segments.size(); s++) {
            int[] seg = segments.get(s);
            List<int[]> hp = split(text, ':', seg[0], seg[1]);
            if (hp.size() != 2) {
                throw new SpecException("expected HOST:PORT for an extra backend, found \""
                        + text.substring(seg[0], seg[1]) + "\"", seg[0]);
            }
            backends.add(new HostPort(host(text, hp.get(0), false), port(text, hp.get(1), false)));
        }
        return new ForwardSpec(proto, bindHost, bindPort, backends);
    }

    /** Splits [from, to) at {@code sep} outside brackets; returns [start, end) pairs. */
    private static List<int[]> split(String s, char sep, int from, int to) throws SpecException {
        List<int[]> out = new ArrayList<>();
        int depth = 0;
        int start = from;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c == '[') {
                if (depth++ > 0) throw new SpecException("nested '[' in \"" + s + "\"", i);
            } else if (c == ']') {
                if (depth-- == 0) throw new SpecException("']' without '[' in \"" + s + "\"", i);
            } else if (c == sep && depth == 0) {
                out.add(new int[] {start, i});
                start = i + 1;
            }
        }
        if (depth != 0) throw new SpecException("'[' without ']' in \"" + s + "\"", to);
        out.add(new int[] {start, to});
        return out;
    }

    private static int port(String s, int[] r, boolean allowZero) throws SpecException {
        String p = s.substring(r[0], r[1]);
        int min = allowZero ? 0 : 1;
        if (p.isEmpty() || p.length() > 5 || !p.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new SpecException("port \"" + p + "\" is not a number " + min + "-65535", r[0]);
        }
        int v = Integer.parseInt(p);
        if (v < min || v > 65535) throw new SpecException("port " + v + " is out of range " + min + "-65535", r[0]);
        return v;
    }

    /** A host name, IPv4 literal or bracketed IPv6 literal (returned without brackets). */
    private static String host(String s, int[] r, boolean bind) throws SpecException {
        String h = s.substring(r[0], r[1]);
        if (bind && (h.isEmpty() || h.equals("*"))) return "";
        if (h.indexOf(']') >= 0 && !h.startsWith("[")) throw new SpecException("']' without '[' in \"" + h + "\"", r[0]);
        return HostSyntax.check(h, false, r[0], 0);
    }
}
