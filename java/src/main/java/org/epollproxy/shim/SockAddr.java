package org.epollproxy.shim;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * An IPv4, IPv6 or UNIX socket address in the shim's own layout ({@link #SIZE} bytes: int32 family,
 * int32 port, int32 scope id, then 108 bytes: the address with IPv4 in the first 4, or a NUL-terminated
 * UNIX socket path of at most {@link #MAX_PATH} bytes). The kernel's {@code sockaddr_in}/{@code sockaddr_in6}/
 * {@code sockaddr_un} never reach Java; the shim converts.
 */
public final class SockAddr {
    public static final int SIZE = 120;
    /** The longest UNIX socket path, in bytes (sun_path holds 108 with the NUL). */
    public static final int MAX_PATH = 107;
    private static final int AREA = SIZE - 12;

    private final int family;
    private final int port;
    private final int scopeId;
    private final byte[] addr; // 4 or 16 bytes, network order; AF_UNIX: the path's bytes (empty: unnamed)

    private SockAddr(int family, int port, int scopeId, byte[] addr) {
        this.family = family;
        this.port = port;
        this.scopeId = scopeId;
        this.addr = addr;
    }

    public static SockAddr of(InetAddress ip, int port) {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port out of range: " + port);
        int scope = ip instanceof Inet6Address ? ((Inet6Address) ip).getScopeId() : 0;
        int family = ip instanceof Inet6Address ? Net.AF_INET6 : Net.AF_INET;
        return new SockAddr(family, port, scope, ip.getAddress());
    }

    /**
     * A UNIX stream socket path. Throws IllegalArgumentException naming the path if it is empty, longer
     * than {@link #MAX_PATH} bytes or holds a NUL.
     */
    public static SockAddr unix(String path) {
        byte[] b = path.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (b.length == 0) throw new IllegalArgumentException("empty UNIX socket path");
        if (b.length > MAX_PATH) {
            throw new IllegalArgumentException("UNIX socket path \"" + path + "\" is " + b.length + " bytes long; the limit is " + MAX_PATH);
        }
        if (path.indexOf('\0') >= 0) throw new IllegalArgumentException("NUL in UNIX socket path");
        return new SockAddr(Net.AF_UNIX, 0, 0, b);
    }

    public static SockAddr of(InetSocketAddress isa) {
        if (isa.isUnresolved()) throw new IllegalArgumentException("unresolved address: " + isa);
        return of(isa.getAddress(), isa.getPort());
    }

    /** Parses a numeric IP literal (no DNS lookup); brackets around IPv6 are accepted. */
    public static SockAddr parse(String ip, int port) {
        String s = ip.startsWith("[") && ip.endsWith("]") ? ip.substring(1, ip.length() - 1) : ip;
        if (!isNumeric(s)) throw new IllegalArgumentException("not a numeric IP address: " + ip);
        try {
            return of(InetAddress.getByName(s), port);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not a numeric IP address: " + ip);
        }
    }

    private static boolean isNumeric(String s) {
        if (s.isEmpty()) return false;
        if (s.indexOf(':') >= 0) return true; // InetAddress parses a literal with ':' without DNS
        return s.matches("\\d{1,3}(\\.\\d{1,3}){3}");
    }

    /** Reads an address the shim wrote at {@code offset} of {@code buf}. */
    public static SockAddr read(ByteBuffer buf, int offset) {
        int family = buf.getInt(offset);
        int port = buf.getInt(offset + 4);
        int scope = buf.getInt(offset + 8);
        if (family == Net.AF_UNIX) {
            int n = 0;
            while (n < AREA && buf.get(offset + 12 + n) != 0) n++;
            byte[] p = new byte[n];
            buf.get(offset + 12, p);
            return new SockAddr(family, 0, 0, p);
        }
        byte[] a = new byte[family == Net.AF_INET6 ? 16 : 4];
        buf.get(offset + 12, a);
        return new SockAddr(family, port, scope, a);
    }

    /** Writes this address in the shim's layout at {@code offset} of {@code buf}. */
    public void write(ByteBuffer buf, int offset) {
        buf.putInt(offset, family);
        buf.putInt(offset + 4, port);
        buf.putInt(offset + 8, scopeId);
        buf.put(offset + 12, Arrays.copyOf(addr, AREA)); // zero-filled: a UNIX path ends with its NUL
    }

    public int family() {
        return family;
    }

    public int port() {
        return port;
    }

    public boolean isIpv6() {
        return family == Net.AF_INET6;
    }

    /** A UNIX socket address (its {@link #path()}; no port, no IP). */
    public boolean isUnix() {
        return family == Net.AF_UNIX;
    }

    /** The UNIX socket path; "" for an unnamed peer (a client that did not bind). Only for {@link #isUnix()}. */
    public String path() {
        return new String(addr, java.nio.charset.StandardCharsets.UTF_8);
    }

    /**
     * 127.0.0.0/8, ::1 or ::ffff:127.x.y.z: an address of this host's loopback, where a TCP connect is
     * answered before connect() returns. Reads the bytes; no InetAddress is made.
     */
    public boolean isLoopback() {
        if (family == Net.AF_INET) return addr[0] == 127;
        if (family != Net.AF_INET6) return false;
        for (int i = 0; i < 10; i++) if (addr[i] != 0) return false;
        if (addr[10] == (byte) 0xff && addr[11] == (byte) 0xff) return addr[12] == 127; // IPv4-mapped
        for (int i = 10; i < 15; i++) if (addr[i] != 0) return false;
        return addr[15] == 1;
    }

    /** The address family to create a socket for this address with. */
    public int socketFamily() {
        return family;
    }

    public SockAddr withPort(int newPort) {
        return new SockAddr(family, newPort, scopeId, addr);
    }

    public InetAddress inetAddress() {
        if (isUnix()) throw new IllegalStateException("a UNIX socket address has no IP address: " + this);
        try {
            return isIpv6()
                    ? Inet6Address.getByAddress(null, addr, scopeId == 0 ? -1 : scopeId)
                    : InetAddress.getByAddress(addr);
        } catch (UnknownHostException e) {
            throw new AssertionError(e); // only thrown for a wrong length, which cannot happen here
        }
    }

    public InetSocketAddress toInetSocketAddress() {
        return new InetSocketAddress(inetAddress(), port);
    }

    /** The numeric host text: "127.0.0.1" or "::1" (compressed, no brackets). */
    public String hostText() {
        if (isUnix()) return toString();
        InetAddress ip = inetAddress();
        if (!isIpv6()) return ip.getHostAddress();
        return compressIpv6(addr) + (scopeId != 0 ? "%" + scopeId : "");
    }

    /** RFC 5952 text: longest run of zero groups as "::", lower case. */
    static String compressIpv6(byte[] a) {
        boolean mapped = true; // ::ffff:a.b.c.d keeps its IPv4 part dotted (RFC 5952 section 5)
        for (int i = 0; i < 10; i++) mapped &= a[i] == 0;
        if (mapped && a[10] == (byte) 0xff && a[11] == (byte) 0xff) {
            return "::ffff:" + (a[12] & 0xff) + "." + (a[13] & 0xff) + "." + (a[14] & 0xff) + "." + (a[15] & 0xff);
        }
        int[] g = new int[8];
        for (int i = 0; i < 8; i++) g[i] = ((a[2 * i] & 0xff) << 8) | (a[2 * i + 1] & 0xff);
        int bestStart = -1, bestLen = 0;
        for (int i = 0; i < 8; ) {
            if (g[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && g[j] == 0) j++;
            if (j - i > bestLen && j - i >= 2) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j;
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                sb.append("::");
                i += bestLen - 1;
                continue;
            }
            if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') sb.append(':');
            sb.append(Integer.toHexString(g[i]));
        }
        return sb.toString();
    }

    /** "127.0.0.1:9000", "[::1]:9000", a UNIX socket's path, or "unix" for an unnamed UNIX peer. */
    @Override
    public String toString() {
        if (isUnix()) return addr.length == 0 ? "unix" : path();
        return isIpv6() ? "[" + hostText() + "]:" + port : hostText() + ":" + port;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof SockAddr)) return false;
        SockAddr s = (SockAddr) o;
        return family == s.family && port == s.port && scopeId == s.scopeId && Arrays.equals(addr, s.addr);
    }

    @Override
    public int hashCode() {
        return (Arrays.hashCode(addr) * 31 + port) * 31 + family;
    }
}
