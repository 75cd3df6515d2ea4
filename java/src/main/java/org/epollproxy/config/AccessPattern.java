package org.epollproxy.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import org.epollproxy.shim.SockAddr;

/**
 * One allow/deny pattern: rinetd's glob ({@code *} any run, {@code ?} one character) over the client's
 * numeric address text, or a CIDR block ({@code 10.0.0.0/8}, {@code 2001:db8::/32}), which rinetd lacks.
 *
 * <p>IPv4 clients of a dual-stack {@code ::} listener arrive as {@code ::ffff:a.b.c.d}; such a client
 * matches a pattern written for either form, so {@code allow 10.*} works on both kinds of listener.
 */
public final class AccessPattern {
    private final String text;
    private final byte[] network; // CIDR only
    private final int prefix; // CIDR only, else -1

    private AccessPattern(String text, byte[] network, int prefix) {
        this.text = text;
        this.network = network;
        this.prefix = prefix;
    }

    /** Validates a pattern; returns it normalised (lower case). */
    public static String check(String p, int column, int line) throws SpecException {
        compile(p, column, line);
        return p.toLowerCase(Locale.ROOT);
    }

    public static AccessPattern compile(String p, int column, int line) throws SpecException {
        if (p.isEmpty()) throw new SpecException("empty pattern", column, line);
        int slash = p.indexOf('/');
        if (slash >= 0) {
            String addr = p.substring(0, slash);
            String len = p.substring(slash + 1);
            byte[] net = null;
            if (addr.matches("\\d{1,3}(\\.\\d{1,3}){3}") || (addr.indexOf(':') >= 0 && addr.matches("[0-9A-Fa-f:.]+"))) {
                try {
                    net = InetAddress.getByName(addr).getAddress();
                } catch (UnknownHostException e) {
                    net = null;
                }
            }
            if (net == null) throw new SpecException("bad CIDR address \"" + addr + "\" in \"" + p + "\"", column, line);
            // Java reads ::ffff:a.b.c.d as the IPv4 address a.b.c.d, but the prefix length counts IPv6 bits.
            boolean mapped = net.length == 4 && addr.indexOf(':') >= 0;
            int max = mapped ? 128 : net.length * 8;
            if (!len.matches("\\d{1,3}") || Integer.parseInt(len) > max) {
                throw new SpecException("bad CIDR prefix length \"/" + len + "\" (0-" + max + ")", column + slash, line);
            }
            int bits = Integer.parseInt(len);
            if (mapped && bits < 96) {
                // Wider than ::ffff:0:0/96 it would hold every IPv4 client, and more: surely not what was meant.
                throw new SpecException("\"" + p + "\": an IPv4-mapped block takes a prefix length of 96-128 (::ffff:"
                        + (net[0] & 0xff) + "." + (net[1] & 0xff) + "." + (net[2] & 0xff) + "." + (net[3] & 0xff) + "/120 is "
                        + (net[0] & 0xff) + "." + (net[1] & 0xff) + "." + (net[2] & 0xff) + "." + (net[3] & 0xff) + "/24)", column + slash, line);
            }
            return new AccessPattern(p.toLowerCase(Locale.ROOT), net, mapped ? bits - 96 : bits); // mapped: its IPv4 block
        }
        // [2001:db8::1], as an IPv6 address is written with a port: the brackets are not part of the address text.
        boolean bracketed = p.length() > 2 && p.charAt(0) == '[' && p.charAt(p.length() - 1) == ']';
        String q = bracketed ? p.substring(1, p.length() - 1) : p;
        for (int i = 0; i < q.length(); i++) {
            char c = q.charAt(i);
            boolean ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
                    || c == ':' || c == '.' || c == '*' || c == '?';
            if (!ok) {
                throw new SpecException("bad character '" + c + "' in pattern \"" + p
                        + "\" (patterns are numeric addresses with * and ?, or CIDR blocks; host names are not allowed)",
                        column + i + (bracketed ? 1 : 0), line);
            }
        }
        if (q.indexOf('*') < 0 && q.indexOf('?') < 0 && q.indexOf(':') >= 0) {
            // One IPv6 address, in any of its spellings (2001:0db8:0:0::1): matched by value, as its /128, not as
            // text, which is only ever the short form (2001:db8::1) and would silently never match another.
            if (!HostSyntax.isIpv6Literal(q) || q.indexOf('%') >= 0) throw new SpecException("bad IPv6 address \"" + p + "\"", column, line);
            byte[] a;
            try {
                a = InetAddress.getByName(q).getAddress(); // a literal, checked above: no name lookup
            } catch (UnknownHostException e) {
                throw new SpecException("bad IPv6 address \"" + p + "\"", column, line);
            }
            return new AccessPattern(p.toLowerCase(Locale.ROOT), a, a.length * 8); // ::ffff:a.b.c.d: the IPv4 /32
        }
        checkGlobParts(p, q, column, line);
        return new AccessPattern(q.toLowerCase(Locale.ROOT), null, -1);
    }

    /**
     * A glob is matched against the address as text: dotted decimal without leading zeros, IPv6 in its short
     * lower-case form (RFC 5952). A part without wildcards that this text never holds (an octet 010 or 300, a
     * group 0db8 or 12345) would make the pattern match nobody, silently: a deny that denies nothing.
     */
    private static void checkGlobParts(String p, String q, int column, int line) throws SpecException {
        boolean v6 = q.indexOf(':') >= 0;
        for (String part : q.split(v6 ? ":" : "\\.", -1)) {
            if (part.isEmpty() || part.indexOf('*') >= 0 || part.indexOf('?') >= 0) continue;
            if (v6 && part.indexOf('.') >= 0) { // a dotted IPv4 tail: ::ffff:10.1.2.3
                checkGlobParts(p, part, column, line);
                continue;
            }
            boolean bad = v6 ? part.length() > 4 || (part.length() > 1 && part.charAt(0) == '0')
                    : !part.matches("0|[1-9][0-9]{0,2}") || Integer.parseInt(part) > 255;
            if (bad) {
                throw new SpecException("\"" + part + "\" in pattern \"" + p + "\" never appears in an address as it is matched ("
                        + (v6 ? "IPv6 in its short form, e.g. 2001:db8::*, or a CIDR block 2001:db8::/32" : "decimal octets without leading zeros")
                        + ")", column, line);
            }
        }
    }

    /** For patterns already validated by {@link #check}. */
    public static AccessPattern of(String checked) {
        try {
            return compile(checked, 0, 0);
        } catch (SpecException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    public boolean matches(SockAddr client) {
        byte[] a = client.inetAddress().getAddress();
        byte[] v4 = mappedIpv4(a);
        if (prefix >= 0) return inNetwork(a) || (v4 != null && inNetwork(v4));
        if (glob(text, client.hostText())) return true;
        // An IPv4 client is one client whichever listener took it: its text in the other form matches too.
        if (a.length == 4) { // only a pattern that can start with "::" may match that form: no text built for the others
            char first = text.charAt(0);
            return (first == ':' || first == '*' || first == '?') && glob(text, "::ffff:" + client.hostText());
        }
        return v4 != null && glob(text, (v4[0] & 0xff) + "." + (v4[1] & 0xff) + "." + (v4[2] & 0xff) + "." + (v4[3] & 0xff));
    }

    /** The IPv4 address inside ::ffff:a.b.c.d, or null. */
    private static byte[] mappedIpv4(byte[] a) {
        if (a.length != 16) return null;
        for (int i = 0; i < 10; i++) if (a[i] != 0) return null;
        if (a[10] != (byte) 0xff || a[11] != (byte) 0xff) return null;
        return new byte[] {a[12], a[13], a[14], a[15]};
    }

    private boolean inNetwork(byte[] a) {
        if (a.length != network.length) return false;
        int bits = prefix;
        for (int i = 0; i < a.length && bits > 0; i++, bits -= 8) {
            int mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
            if ((a[i] & mask) != (network[i] & mask)) return false;
        }
        return true;
    }

    /** Glob match, '*' = any run (also empty), '?' = exactly one character; linear with one backtrack point. */
    static boolean glob(String pattern, String s) {
        int p = 0, i = 0, star = -1, mark = 0;
        while (i < s.length()) {
            if (p < pattern.length() && (pattern.charAt(p) == '?' || pattern.charAt(p) == s.charAt(i))) {
                p++;
                i++;
            } else if (p < pattern.length() && pattern.charAt(p) == '*') {
                star = p++;
                mark = i;
            } else if (star >= 0) {
                p = star + 1;
                i = ++mark;
            } else {
                return false;
            }
        }
        while (p < pattern.length() && pattern.charAt(p) == '*') p++;
        return p == pattern.length();
    }

    @Override
    public String toString() {
        return text;
    }
}
