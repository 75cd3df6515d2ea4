package org.epollproxy.forward;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of one PROXY protocol header (v1 or v2, TCP over IPv4/IPv6), as a backend would
 * parse it, written from HAProxy's proxy-protocol.txt for the tests: it consumes exactly the header
 * and leaves the client's bytes in the stream.
 */
final class ProxyHeaderParser {
    record Header(int version, String family, InetAddress src, InetAddress dst, int srcPort, int dstPort) {}

    static final int V1_MAX = 107;
    private static final String PORT = "(0|[1-9][0-9]{0,4})";
    private static final Pattern V1 = Pattern.compile(
            "PROXY (TCP4|TCP6) ([0-9a-fA-F:.]+) ([0-9a-fA-F:.]+) " + PORT + " " + PORT);

    static Header read(InputStream raw) throws IOException {
        DataInputStream in = new DataInputStream(raw);
        int first = in.read();
        if (first == 'P') return v1(in);
        if (first == 0x0D) return v2(in);
        throw new IOException("no PROXY header: first byte " + first);
    }

    private static Header v1(DataInputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        line.write('P');
        while (true) {
            int b = in.read();
            if (b < 0) throw new IOException("EOF inside the v1 line");
            if (b == '\r') {
                if (in.read() != '\n') throw new IOException("CR without LF");
                break;
            }
            line.write(b);
            if (line.size() > V1_MAX - 2) throw new IOException("v1 line longer than 107 bytes");
        }
        String text = line.toString(StandardCharsets.US_ASCII);
        Matcher m = V1.matcher(text);
        if (!m.matches()) throw new IOException("bad v1 line: " + text);
        InetAddress src = literal(m.group(2), m.group(1));
        InetAddress dst = literal(m.group(3), m.group(1));
        return new Header(1, m.group(1), src, dst, port(m.group(4)), port(m.group(5)));
    }

    private static Header v2(DataInputStream in) throws IOException {
        byte[] rest = new byte[15];
        in.readFully(rest);
        byte[] sig = new byte[12];
        sig[0] = 0x0D;
        System.arraycopy(rest, 0, sig, 1, 11);
        if (!Arrays.equals(sig, ProxyProtocol.V2_SIGNATURE)) throw new IOException("bad v2 signature");
        int verCmd = rest[11] & 0xff;
        if (verCmd != 0x21) throw new IOException("version/command " + Integer.toHexString(verCmd) + ", expected 0x21");
        int fam = rest[12] & 0xff;
        int len = ((rest[13] & 0xff) << 8) | (rest[14] & 0xff);
        int addrLen;
        String family;
        if (fam == 0x11) {
            addrLen = 4;
            family = "TCP4";
        } else if (fam == 0x21) {
            addrLen = 16;
            family = "TCP6";
        } else {
            throw new IOException("family/protocol " + Integer.toHexString(fam));
        }
        if (len != 2 * addrLen + 4) throw new IOException("length " + len + " for " + family);
        byte[] a = new byte[len];
        in.readFully(a);
        InetAddress src = InetAddress.getByAddress(Arrays.copyOfRange(a, 0, addrLen));
        InetAddress dst = InetAddress.getByAddress(Arrays.copyOfRange(a, addrLen, 2 * addrLen));
        int srcPort = ((a[2 * addrLen] & 0xff) << 8) | (a[2 * addrLen + 1] & 0xff);
        int dstPort = ((a[2 * addrLen + 2] & 0xff) << 8) | (a[2 * addrLen + 3] & 0xff);
        return new Header(2, family, src, dst, srcPort, dstPort);
    }

    private static InetAddress literal(String s, String family) throws IOException {
        boolean v6 = family.equals("TCP6");
        if (v6 != s.contains(":")) throw new IOException(s + " is not a " + family + " address");
        if (!v6 && !s.matches("((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])")) {
            throw new IOException("bad IPv4 literal " + s);
        }
        return InetAddress.getByName(s); // a literal: no lookup
    }

    private static int port(String s) throws IOException {
        int p = Integer.parseInt(s);
        if (p > 65535) throw new IOException("port " + p);
        return p;
    }

    private ProxyHeaderParser() {}
}
