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
 * <p>UNIX stream sockets, as ssh writes them: a part holding a '/' is a socket path, in place of
 * {@code [BIND:]PORT} on the listening side and of {@code HOST:HOSTPORT} on the backend side:
 * {@code PORT:/path}, {@code /path:HOST:HOSTPORT}, {@code /path/a:/path/b} (TCP only; a path may not hold
 * ':' or ',' and is at most 107 bytes).
 *
 * @param bindHost null when omitted (loopback), "" for all interfaces, a UNIX socket path (holds a '/';
 *     bindPort is then 0), else the text given
 */
public record ForwardSpec(String proto, String bindHost, int bindPort, List<HostPort> backends) {

    /** A host as written (brackets removed from IPv6 literals) and a port. */
    public record HostPort(String host, int port) {
        /** A UNIX socket backend: its path as the host (it holds a '/', which no host name does), port 0. */
        public static HostPort unix(String path) {
            return new HostPort(path, 0);
        }

        public boolean isUnix() {
            return isPath(host);
        }

        @Override
        public String toString() {
            if (isUnix()) return host;
            return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
        }
    }

    /** True if {@code text} names a UNIX socket (it holds a '/'), as ssh decides. */
    public static boolean isPath(String text) {
        return text != null && text.indexOf('/') >= 0;
    }

    /** The forward listens on a UNIX socket path ({@link #bindHost()}). */
    public boolean isUnixListen() {
        return isPath(bindHost);
    }

    public ForwardSpec {
        backends = List.copyOf(backends);
    }

    /** The spec as it would be written back (a parse of this text gives an equal spec). */
    public String format() {
        StringBuilder sb = new StringBuilder();
        if (isUnixListen()) {
            sb.append(bindHost);
            for (int i = 0; i < backends.size(); i++) sb.append(i == 0 ? ":" : ",").append(backends.get(i));
            return sb.toString();
        }
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
        boolean listenPath = isPath(text.substring(parts.get(0)[0], parts.get(0)[1]));
        int[] lastPart = parts.get(parts.size() - 1);
        boolean backendPath = isPath(text.substring(lastPart[0], lastPart[1]));
        if ((listenPath || backendPath) && proto.equals("udp")) {
            throw new SpecException("UNIX socket paths are for TCP forwards (-L) only", first[0]);
        }
        String bindHost = null;
        int bindPort;
        List<HostPort> backends = new ArrayList<>();
        if (listenPath) {
            if (parts.size() != (backendPath ? 2 : 3)) {
                throw new SpecException("expected /PATH:HOST:HOSTPORT or /PATH:/PATH, found " + parts.size()
                        + " part(s) separated by ':' in \"" + text.substring(first[0], first[1]) + "\"", first[0]);
            }
            bindHost = path(text, parts.get(0));
            bindPort = 0;
            backends.add(backendPath ? HostPort.unix(path(text, parts.get(1)))
                    : new HostPort(host(text, parts.get(1), false), port(text, parts.get(2), false)));
        } else {
            int i = 0;
            int n = parts.size() + (backendPath ? 1 : 0); // a path backend is one part where HOST:PORT is two
            if (n == 4) {
                bindHost = host(text, parts.get(0), true);
                i = 1;
            } else if (n != 3) {
                throw new SpecException("expected [BIND:]PORT:HOST:HOSTPORT, found " + parts.size()
                        + " part(s) separated by ':' in \"" + text.substring(first[0], first[1]) + "\" (IPv6 goes in brackets)", first[0]);
            }
            bindPort = port(text, parts.get(i), true);
            backends.add(backendPath ? HostPort.unix(path(text, parts.get(i + 1)))
                    : new HostPort(host(text, parts.get(i + 1), false), port(text, parts.get(i + 2), false)));
        }
        for (int s = 1; s < segments.size(); s++) {
            int[] seg = segments.get(s);
            if (isPath(text.substring(seg[0], seg[1]))) {
                backends.add(HostPort.unix(path(text, seg)));
                continue;
            }
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
        if (p.isEmpty() || p.length() > 5 || !Digits.ascii(p)) {
            throw new SpecException("port \"" + p + "\" is not a number " + min + "-65535", r[0]);
        }
        int v = Integer.parseInt(p);
        if (v < min || v > 65535) throw new SpecException("port " + v + " is out of range " + min + "-65535", r[0]);
        return v;
    }

    /** A UNIX socket path: holds a '/', at most 107 bytes, no NUL or control character. */
    static String path(String s, int[] r) throws SpecException {
        String p = s.substring(r[0], r[1]);
        checkPath(p, r[0], 0);
        return p;
    }

    /** Checks a UNIX socket path; the SpecException names it, at {@code position} / {@code line}. */
    public static void checkPath(String p, int position, int line) throws SpecException {
        if (!isPath(p)) throw new SpecException("\"" + p + "\" is not a UNIX socket path (a path holds a '/')", position, line);
        int bytes = p.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        if (bytes > 107) {
            throw new SpecException("UNIX socket path \"" + p + "\" is " + bytes + " bytes long; the limit is 107", position, line);
        }
        for (int i = 0; i < p.length(); i++) {
            if (p.charAt(i) < 0x20 || p.charAt(i) == 0x7f) throw new SpecException("control character in UNIX socket path", position + i, line);
        }
        if (p.indexOf('[') >= 0 || p.indexOf(']') >= 0) throw new SpecException("'[' or ']' in UNIX socket path \"" + p + "\"", position, line);
    }

    /** A host name, IPv4 literal or bracketed IPv6 literal (returned without brackets). */
    private static String host(String s, int[] r, boolean bind) throws SpecException {
        String h = s.substring(r[0], r[1]);
        if (bind && (h.isEmpty() || h.equals("*"))) return "";
        if (h.indexOf(']') >= 0 && !h.startsWith("[")) throw new SpecException("']' without '[' in \"" + h + "\"", r[0]);
        return HostSyntax.check(h, false, r[0], 0);
    }
}
