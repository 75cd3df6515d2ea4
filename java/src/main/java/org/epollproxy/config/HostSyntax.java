package org.epollproxy.config;

/**
 * The host part of a forward, as the -L parser and the config parser accept it: a host name (labels may
 * start with a digit, as in 329.getmyip.com), an IPv4 literal, or an IPv6 literal, bare (config files:
 * {@code fe80::1}) or in brackets. Nothing is resolved here.
 */
public final class HostSyntax {
    private static final java.util.regex.Pattern NAME = java.util.regex.Pattern.compile("[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_.])?");

    /**
     * Checks {@code h} and returns it without brackets; {@code bareIpv6} allows {@code ::1} unbracketed.
     *
     * @throws SpecException naming the host, at {@code position} / {@code line}
     */
    public static String check(String h, boolean bareIpv6, int position, int line) throws SpecException {
        if (h.startsWith("[")) {
            String inner = h.endsWith("]") ? h.substring(1, h.length() - 1) : "";
            if (!isIpv6Literal(inner)) {
                throw new SpecException("bad IPv6 literal \"" + h + "\"", position, line);
            }
            return inner;
        }
        if (h.isEmpty()) throw new SpecException("empty host name", position, line);
        if (h.indexOf(':') >= 0) {
            if (bareIpv6 && isIpv6Literal(h)) return h;
            throw new SpecException("bad host \"" + h + "\"" + (bareIpv6 ? "" : " (IPv6 goes in brackets)"), position, line);
        }
        if (h.length() > 253 || !NAME.matcher(h).matches()) {
            throw new SpecException("bad host name \"" + h + "\"", position, line);
        }
        return h;
    }

    /**
     * An IPv6 literal as RFC 4291 writes it: eight groups of 1-4 hex digits, one "::" standing for one or
     * more zero groups, optionally a dotted IPv4 tail (two groups) and a "%zone".
     */
    public static boolean isIpv6Literal(String s) {
        int pct = s.indexOf('%');
        if (pct >= 0) {
            if (!s.substring(pct + 1).matches("[0-9A-Za-z._-]+")) return false;
            s = s.substring(0, pct);
        }
        if (s.indexOf(':') < 0) return false;
        int dbl = s.indexOf("::");
        if (dbl >= 0 && s.indexOf("::", dbl + 1) >= 0) return false;
        String[] parts = s.split(":", -1);
        int groups = 0;
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i];
            if (p.isEmpty()) continue; // the "::" (or a leading/trailing half of it), checked below
            if (i == parts.length - 1 && p.indexOf('.') >= 0) {
                if (!p.matches("\\d{1,3}(\\.\\d{1,3}){3}")) return false;
                for (String b : p.split("\\.")) if (Integer.parseInt(b) > 255) return false;
                groups += 2;
            } else if (p.matches("[0-9A-Fa-f]{1,4}")) {
                groups++;
            } else {
                return false;
            }
        }
        if (dbl < 0) {
            for (String p : parts) if (p.isEmpty()) return false; // a lone leading/trailing ':'
            return groups == 8;
        }
        // with "::": only the "::" itself may leave empty parts
        if (s.startsWith(":") && !s.startsWith("::")) return false;
        if (s.endsWith(":") && !s.endsWith("::")) return false;
        return groups < 8;
    }

    private HostSyntax() {}
}
