package org.epollproxy.forward.proxyproto;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import org.epollproxy.config.HostSyntax;
import org.epollproxy.shim.SockAddr;

/**
 * A strict, incremental parser of the PROXY protocol header a load balancer puts in front of a
 * connection (HAProxy's proxy-protocol.txt, versions 1 and 2), for {@code --accept-proxy}.
 *
 * <p>Incremental: {@link #parse} is given the bytes received so far (a header can arrive in pieces) and
 * says "done", "bad" or "need more"; a prefix that can no longer become a header is rejected at once, so
 * garbage is refused without waiting for the deadline. {@link #wanted} says how many bytes to read next so
 * that a v2 header is read exactly (a v1 line may be followed by client bytes in the same read; they are
 * the caller's). Bounded: no header longer than {@link #MAX_HEADER} bytes is accepted, and the parser
 * allocates nothing proportional to its input beyond the address it returns. Pure: no I/O, no state.
 */
public final class HeaderParser {
    /** The longest header accepted: a v2 header with up to 2032 bytes of addresses and TLVs. */
    public static final int MAX_HEADER = 2048;
    /** A v1 line, "PROXY" to CRLF included, is at most this long (the specification's bound). */
    public static final int V1_MAX = 107;
    private static final byte[] V1_PREFIX = "PROXY ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

    /**
     * A complete header.
     *
     * @param source the client the balancer announces; null when it announces none (v1 UNKNOWN, v2 LOCAL,
     *     UNSPEC or UNIX): the connection's own addresses stand then
     * @param destination the address the client connected to at the balancer; null with source
     * @param length bytes of the header; what follows belongs to the client
     */
    public record Header(int version, SockAddr source, SockAddr destination, int length) {}

    /** The outcome of one {@link #parse}: a header, an error, or neither (more bytes needed). */
    public record Result(Header header, String error) {
        static final Result MORE = new Result(null, null);

        public boolean needsMore() {
            return header == null && error == null;
        }
    }

    /** Parses {@code b[0, len)}, the first bytes of a connection. */
    public static Result parse(byte[] b, int len) {
        if (len <= 0) return Result.MORE;
        if (b[0] == 'P') return v1(b, len);
        if (b[0] == 0x0D) return v2(b, len);
        return bad("not a PROXY protocol header (first byte 0x" + Integer.toHexString(b[0] & 0xff) + ")");
    }

    /** How many bytes to read after {@code b[0, len)}: exact for v2, up to the line's bound for v1. */
    public static int wanted(byte[] b, int len) {
        if (len > 0 && b[0] == 'P') return Math.max(1, V1_MAX - len);
        if (len < 16) return 16 - len;
        return Math.max(1, 16 + (((b[14] & 0xff) << 8) | (b[15] & 0xff)) - len);
    }

    private static Result bad(String why) {
        return new Result(null, why);
    }

    // ---- version 1: "PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n" ----

    private static Result v1(byte[] b, int len) {
        int cr = -1;
        for (int i = 0; i < len && i < V1_MAX - 1; i++) { // the CR of a line of V1_MAX bytes is its byte V1_MAX - 2
            int c = b[i] & 0xff;
            if (i < V1_PREFIX.length && c != V1_PREFIX[i]) return bad("v1 header does not start with \"PROXY \"");
            if (c == '\r') {
                cr = i;
                break;
            }
            if (c < 0x20 || c > 0x7e) return bad("v1 header holds byte 0x" + Integer.toHexString(c));
        }
        if (cr < 0) return len >= V1_MAX - 1 ? bad("v1 header longer than " + V1_MAX + " bytes") : Result.MORE;
        if (cr < V1_PREFIX.length) return bad("v1 header too short");
        if (cr + 1 >= len) return Result.MORE;
        if (b[cr + 1] != '\n') return bad("v1 header: CR without LF");
        String[] f = new String(b, V1_PREFIX.length, cr - V1_PREFIX.length, StandardCharsets.US_ASCII).split(" ", -1);
        int length = cr + 2;
        if (f[0].equals("UNKNOWN")) return new Result(new Header(1, null, null, length), null);
        if (!f[0].equals("TCP4") && !f[0].equals("TCP6")) return bad("v1 header: protocol \"" + f[0] + "\" is not TCP4, TCP6 or UNKNOWN");
        if (f.length != 5) return bad("v1 header: expected PROTO SRC DST SRCPORT DSTPORT separated by single spaces");
        boolean v6 = f[0].equals("TCP6");
        InetAddress src = ip(f[1], v6);
        InetAddress dst = ip(f[2], v6);
        int sp = port(f[3]);
        int dp = port(f[4]);
        if (src == null || dst == null) return bad("v1 header: bad " + f[0] + " address");
        if (sp < 0 || dp < 0) return bad("v1 header: bad port");
        return new Result(new Header(1, SockAddr.of(src, sp), SockAddr.of(dst, dp), length), null);
    }

    private static InetAddress ip(String s, boolean v6) {
        if (v6) {
            if (s.indexOf('%') >= 0 || !HostSyntax.isIpv6Literal(s)) return null;
            // A dotted tail (::ffff:1.2.3.4) as strict as TCP4's: 010 is 10 here, 8 to a reader of octal.
            int colon = s.lastIndexOf(':');
            if (s.indexOf('.') > colon && !s.substring(colon + 1).matches("(0|[1-9][0-9]{0,2})(\\.(0|[1-9][0-9]{0,2})){3}")) return null;
        } else if (!s.matches("(0|[1-9][0-9]{0,2})(\\.(0|[1-9][0-9]{0,2})){3}")) {
            return null;
        } else {
            for (String part : s.split("\\.")) if (Integer.parseInt(part) > 255) return null;
        }
        try {
            return InetAddress.getByName(s); // a literal, checked above: no name lookup
        } catch (UnknownHostException e) {
            return null;
        }
    }

    private static int port(String s) {
        if (!s.matches("0|[1-9][0-9]{0,4}")) return -1;
        int p = Integer.parseInt(s);
        return p > 65535 ? -1 : p;
    }

    // ---- version 2: signature, version/command, family/protocol, length, addresses, TLVs ----

    private static Result v2(byte[] b, int len) {
        for (int i = 0; i < len && i < V2_SIGNATURE.length; i++) {
            if (b[i] != V2_SIGNATURE[i]) return bad("bad v2 signature");
        }
        if (len < 13) return Result.MORE;
        int verCmd = b[12] & 0xff;
        if (verCmd >> 4 != 2) return bad("v2 header: version " + (verCmd >> 4) + ", expected 2");
        int cmd = verCmd & 0x0f;
        if (cmd > 1) return bad("v2 header: command " + cmd + " is neither LOCAL (0) nor PROXY (1)");
        if (len < 14) return Result.MORE;
        int fam = b[13] & 0xff;
        boolean known = fam == 0x00 || fam == 0x11 || fam == 0x12 || fam == 0x21 || fam == 0x22 || fam == 0x31 || fam == 0x32;
        if (!known) return bad("v2 header: unknown family/protocol 0x" + Integer.toHexString(fam));
        if (cmd == 1 && (fam & 0x0f) == 2) return bad("v2 header: a datagram (UDP) connection on a stream listener");
        if (len < 16) return Result.MORE;
        int bodyLen = ((b[14] & 0xff) << 8) | (b[15] & 0xff);
        if (16 + bodyLen > MAX_HEADER) return bad("v2 header of " + (16 + bodyLen) + " bytes; the limit is " + MAX_HEADER);
        int need = fam == 0x11 ? 12 : fam == 0x21 ? 36 : fam == 0x31 ? 216 : 0;
        if (cmd == 1 && bodyLen < need) return bad("v2 header: length " + bodyLen + " too short for its addresses (" + need + ")");
        if (len < 16 + bodyLen) return Result.MORE;
        int length = 16 + bodyLen; // nothing in the TLVs after the addresses is used, but they must be sound
        if (cmd == 1) {
            String tlvError = tlvs(b, 16 + need, length);
            if (tlvError != null) return bad("v2 header: " + tlvError);
        }
        if (cmd == 0 || (fam != 0x11 && fam != 0x21)) return new Result(new Header(2, null, null, length), null);
        int a = fam == 0x11 ? 4 : 16;
        SockAddr src = SockAddr.of(inet(b, 16, a), u16(b, 16 + 2 * a));
        SockAddr dst = SockAddr.of(inet(b, 16 + a, a), u16(b, 18 + 2 * a));
        return new Result(new Header(2, src, dst, length), null);
    }

    /** PP2_TYPE_CRC32C: a checksum of the whole header, this record's value taken as zero. */
    private static final int PP2_TYPE_CRC32C = 0x03;

    /**
     * Walks the TLVs in {@code b[from, to)}: null if each record lies within the header and a CRC32C record,
     * if any, matches; else what is wrong. As haproxy does: a record that overruns the header means its length
     * is not the sender's, and a checksum the sender gave is there to be checked.
     */
    private static String tlvs(byte[] b, int from, int to) {
        for (int i = from; i + 3 <= to;) { // fewer than 3 bytes left: padding, which haproxy lets pass too
            int type = b[i] & 0xff;
            int n = u16(b, i + 1);
            if (i + 3 + n > to) return "TLV 0x" + Integer.toHexString(type) + " of " + n + " bytes overruns the header";
            if (type == PP2_TYPE_CRC32C) {
                if (n != 4) return "CRC32C TLV of " + n + " bytes, expected 4";
                java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
                crc.update(b, 0, i + 3);
                crc.update(new byte[4]);
                crc.update(b, i + 7, to - i - 7);
                long given = ((long) u16(b, i + 3) << 16) | u16(b, i + 5);
                if (crc.getValue() != given) return "CRC32C mismatch";
            }
            i += 3 + n;
        }
        return null;
    }

    private static InetAddress inet(byte[] b, int off, int n) {
        byte[] a = new byte[n];
        System.arraycopy(b, off, a, 0, n);
        try {
            return n == 4 ? InetAddress.getByAddress(a) : java.net.Inet6Address.getByAddress(null, a, -1);
        } catch (UnknownHostException e) {
            throw new AssertionError(e); // only for a wrong length
        }
    }

    private static int u16(byte[] b, int off) {
        return ((b[off] & 0xff) << 8) | (b[off + 1] & 0xff);
    }

    private HeaderParser() {}
}
