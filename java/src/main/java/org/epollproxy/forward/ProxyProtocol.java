package org.epollproxy.forward;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.epollproxy.shim.SockAddr;

/**
 * The PROXY protocol (HAProxy's proxy-protocol.txt) as a forward sends it to its backends, so a backend
 * learns the real client address: the header goes to the backend right after connect, before any byte
 * of the client's. {@link #V1} is one text line, {@link #V2} a binary header.
 */
public enum ProxyProtocol {
    /** No header: the backend sees the proxy as its client. */
    OFF,
    /** {@code PROXY TCP4 <src> <dst> <srcport> <dstport>\r\n} (TCP6 for IPv6); at most 107 bytes. */
    V1,
    /** 12-byte signature, version 2 / command PROXY, family TCP over IPv4 or IPv6, then the addresses. */
    V2;

    /** The v2 signature: "\r\n\r\n\0\r\nQUIT\n". */
    /** The longest header either version writes: a v1 line at its maximum (the spec's 107 bytes). */
    public static final int MAX_HEADER = 107;
    static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    private static final int V2_VERSION_PROXY = 0x21;
    private static final int V2_VERSION_LOCAL = 0x20;
    private static final int V2_TCP_OVER_IPV4 = 0x11;
    private static final int V2_TCP_OVER_IPV6 = 0x21;
    private static final byte[] V4_MAPPED_PREFIX = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff};

    /** "v1" / "v2", as --send-proxy and proxy= spell it (their help says v1|v2; no option is off). */
    public static ProxyProtocol parse(String text) {
        switch (text.toLowerCase(java.util.Locale.ROOT)) {
            case "v1": return V1;
            case "v2": return V2;
            default: throw new IllegalArgumentException("expected v1 or v2, not \"" + text + "\"");
        }
    }

    /**
     * The header announcing a connection from {@code client} to {@code proxy} (the address the client
     * connected to). When both are IPv4-mapped IPv6 addresses (an IPv4 client on a dual-stack listener)
     * it names them as IPv4, as the backend would see them without the proxy.
     */
    public byte[] header(SockAddr client, SockAddr proxy) {
        return header(client, proxy, null);
    }

    /**
     * As above; v2 with IP addresses also carries {@code tlvs} (type-length-value records, e.g. the TLS facts of a
     * terminated connection) after the addresses. v1 has no room for them: they are left out.
     */
    public byte[] header(SockAddr client, SockAddr proxy, byte[] tlvs) {
        if (this == OFF) return new byte[0];
        if (client.isUnix() || proxy.isUnix()) return unspecified();
        byte[] src = client.inetAddress().getAddress();
        byte[] dst = proxy.inetAddress().getAddress();
        if (isV4Mapped(src) && isV4Mapped(dst)) {
            src = Arrays.copyOfRange(src, 12, 16);
            dst = Arrays.copyOfRange(dst, 12, 16);
        }
        if (src.length != dst.length) { // cannot happen for one socket's two ends; map the IPv4 one
            src = toV6(src);
            dst = toV6(dst);
        }
        return this == V1 ? v1(src, dst, client.port(), proxy.port()) : v2(src, dst, client.port(), proxy.port(), tlvs == null ? new byte[0] : tlvs);
    }

    /**
     * No IP addresses to announce (a UNIX socket client): v1 {@code PROXY UNKNOWN\r\n}, v2 the LOCAL command
     * with family UNSPEC and no address block. Either way the backend uses the connection's own addresses.
     */
    private byte[] unspecified() {
        if (this == V1) return "PROXY UNKNOWN\r\n".getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = ByteBuffer.allocate(16);
        b.put(V2_SIGNATURE).put((byte) V2_VERSION_LOCAL).put((byte) 0).putShort((short) 0);
        return b.array();
    }

    private static byte[] v1(byte[] src, byte[] dst, int srcPort, int dstPort) {
        String family = src.length == 4 ? "TCP4" : "TCP6";
        String line = "PROXY " + family + " " + text(src) + " " + text(dst) + " " + srcPort + " " + dstPort + "\r\n";
        return line.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] v2(byte[] src, byte[] dst, int srcPort, int dstPort, byte[] tlvs) {
        int addrLen = 2 * src.length + 4;
        ByteBuffer b = ByteBuffer.allocate(16 + addrLen + tlvs.length); // big-endian, as the protocol wants
        b.put(V2_SIGNATURE).put((byte) V2_VERSION_PROXY).put((byte) (src.length == 4 ? V2_TCP_OVER_IPV4 : V2_TCP_OVER_IPV6));
        b.putShort((short) (addrLen + tlvs.length)).put(src).put(dst).putShort((short) srcPort).putShort((short) dstPort).put(tlvs);
        return b.array();
    }

    /** Dotted quad, or the RFC 5952 form of an IPv6 address (no scope: the protocol has none). */
    private static String text(byte[] a) {
        SockAddr s = SockAddr.of(inet(a), 0);
        String t = s.hostText();
        int scope = t.indexOf('%');
        return scope < 0 ? t : t.substring(0, scope);
    }

    private static java.net.InetAddress inet(byte[] a) {
        try {
            return a.length == 4 ? java.net.InetAddress.getByAddress(a) : java.net.Inet6Address.getByAddress(null, a, -1);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e); // only for a wrong length
        }
    }

    private static boolean isV4Mapped(byte[] a) {
        return a.length == 16 && Arrays.equals(a, 0, 12, V4_MAPPED_PREFIX, 0, 12);
    }

    private static byte[] toV6(byte[] a) {
        if (a.length == 16) return a;
        ByteArrayOutputStream out = new ByteArrayOutputStream(16);
        out.writeBytes(V4_MAPPED_PREFIX);
        out.writeBytes(a);
        return out.toByteArray();
    }
}
