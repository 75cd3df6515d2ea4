package org.epollproxy.cli;

/**
 * The host part of a forward, as the -L parser and the config parser accept it: a host name (labels may
 * start with a digit, as in 329.getmyip.com), an IPv4 literal, or an IPv6 literal, bare (config files:
 * {@code fe80::1}) or in brackets. Nothing is resolved here.
 */
public final class HostSyntax {
    private static final String IPV6 = "[0-9A-Fa-f:.]+(%[0-9A-Za-z._-]+)?";
    private static final String NAME = "[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_.])?";

    /**
     * Checks {@code h} and returns it without brackets; {@code bareIpv6} allows {@code ::1} unbracketed.
     *
     * @throws SpecException naming the host, at {@code position} / {@code line}
     */
    public static String check(String h, boolean bareIpv6, int position, int line) throws SpecException {
        if (h.startsWith("[")) {
            String inner = h.endsWith("]") ? h.substring(1, h.length() - 1) : "";
            if (inner.indexOf(':') < 0 || !inner.matches(IPV6)) {
                throw new SpecException("bad IPv6 literal \"" + h + "\"", position, line);
            }
            return inner;
        }
        if (h.isEmpty()) throw new SpecException("empty host name", position, line);
        if (h.indexOf(':') >= 0) {
            if (bareIpv6 && h.matches(IPV6)) return h;
            throw new SpecException("bad host \"" + h + "\"" + (bareIpv6 ? "" : " (IPv6 goes in brackets)"), position, line);
        }
        if (h.length() > 253 || !h.matches(NAME)) {
            throw new SpecException("bad host name \"" + h + "\"", position, line);
        }
        return h;
    }

    private HostSyntax() {}
}
