package org.epollproxy.forward.proxyproto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.epollproxy.forward.ProxyProtocol;
import org.epollproxy.shim.SockAddr;
import org.junit.jupiter.api.Test;

/** The PROXY header parser, strict and incremental: every header in every split, and what it refuses. */
class HeaderParserTest {
    static final byte[] SIG = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

    /** Feeds {@code b} one byte at a time: "more" until the last byte of the header, then the result. */
    static HeaderParser.Result byteByByte(byte[] b) {
        HeaderParser.Result r = null;
        for (int n = 1; n <= b.length; n++) {
            r = HeaderParser.parse(b, n);
            if (!r.needsMore()) return r;
        }
        return r;
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void v1Tcp4AndTcp6InAnySplitWithTheClientsBytesLeftOver() {
        byte[] b = ascii("PROXY TCP4 192.0.2.7 10.0.0.1 56324 443\r\nGET /");
        HeaderParser.Result r = byteByByte(b);
        assertNotNull(r.header(), String.valueOf(r.error()));
        assertEquals(SockAddr.parse("192.0.2.7", 56324), r.header().source());
        assertEquals(SockAddr.parse("10.0.0.1", 443), r.header().destination());
        assertEquals(b.length - 5, r.header().length());
        r = HeaderParser.parse(b, b.length);
        assertEquals(b.length - 5, r.header().length(), "the same header whole");

        r = byteByByte(ascii("PROXY TCP6 2001:db8::1 ::1 1 65535\r\n"));
        assertEquals(SockAddr.parse("2001:db8::1", 1), r.header().source());
    }

    @Test
    void v1UnknownAnnouncesNoAddress() {
        HeaderParser.Result r = byteByByte(ascii("PROXY UNKNOWN\r\n"));
        assertNull(r.header().source());
        assertEquals(15, r.header().length());
        assertNull(byteByByte(ascii("PROXY UNKNOWN ffff::1 ::1 1 2\r\n")).header().source());
    }

    @Test
    void v1GarbageIsRefusedAtTheFirstWrongByte() {
        assertTrue(HeaderParser.parse(ascii("GET / HTTP/1.1"), 1).error() != null, "not P or CR: refused at byte 1");
        assertTrue(HeaderParser.parse(ascii("PROXZ"), 5).error() != null);
        for (String bad : new String[] {
            "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", // LF without CR
            "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX",
            "PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", // two spaces
            "PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n", // leading zero
            "PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n",
            "PROXY TCP4 ::1 ::1 1 2\r\n", // IPv6 under TCP4
            "PROXY TCP6 1.2.3.4 ::1 1 2\r\n",
            "PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n",
            "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n",
            "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
            "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",
            "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",
            "PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n",
            "PROXY TCP6 ::ffff:010.0.0.1 ::1 1 2\r\n", // leading zero in the dotted tail
            "PROXY \r\n",
            "PROXY TCP4 1.2.3.4\u00005.6.7.8 1 2\r\n",
        }) {
            HeaderParser.Result r = byteByByte(ascii(bad));
            assertNotNull(r.error(), "refused: " + bad.replace("\r", "\\r").replace("\n", "\\n"));
        }
    }

    @Test
    void v1LongerThan107BytesIsRefusedWithoutWaitingForTheEnd() {
        byte[] b = new byte[200];
        Arrays.fill(b, (byte) '1');
        System.arraycopy(ascii("PROXY UNKNOWN "), 0, b, 0, 14);
        assertTrue(HeaderParser.parse(b, 105).needsMore());
        assertNotNull(HeaderParser.parse(b, 106).error(), "no CR in 106 bytes: the line cannot end within 107");
    }

    /** The specification's bound is 107 bytes, CR LF included: a line of 107 is read, one of 108 refused. */
    @Test
    void v1Of107BytesIsTheLongestLine() {
        for (int total : new int[] {107, 108}) {
            byte[] b = ascii("PROXY UNKNOWN " + "1".repeat(total - 16) + "\r\n");
            assertEquals(total, b.length);
            HeaderParser.Result r = byteByByte(b);
            if (total == 107) assertEquals(107, r.header().length());
            else assertNotNull(r.error(), "108 bytes");
        }
    }

    static byte[] v2(int verCmd, int fam, byte[] body) {
        ByteBuffer b = ByteBuffer.allocate(16 + body.length);
        b.put(SIG).put((byte) verCmd).put((byte) fam).putShort((short) body.length).put(body);
        return b.array();
    }

    static byte[] ipv4Body(int extra) {
        ByteBuffer b = ByteBuffer.allocate(12 + extra);
        b.put(new byte[] {(byte) 198, 51, 100, 9}).put(new byte[] {10, 0, 0, 1}).putShort((short) 40000).putShort((short) 443);
        if (extra >= 3) b.put((byte) 0x04).putShort((short) (extra - 3)); // PP2_TYPE_NOOP, its value skipped
        for (int i = 0; i < extra - 3; i++) b.put((byte) (i * 7));
        return b.array();
    }

    /** v2 PROXY over IPv4 with {@code tlvs} after the addresses, and a CRC32C record if {@code crc} (filled in). */
    static byte[] withTlvs(byte[] tlvs, boolean crc) {
        byte[] body = ipv4Body(0);
        ByteBuffer b = ByteBuffer.allocate(12 + tlvs.length + (crc ? 7 : 0)).put(body).put(tlvs);
        if (crc) b.put((byte) 0x03).putShort((short) 4).putInt(0);
        byte[] h = v2(0x21, 0x11, b.array());
        if (crc) {
            java.util.zip.CRC32C c = new java.util.zip.CRC32C();
            c.update(h);
            ByteBuffer.wrap(h).putInt(h.length - 4, (int) c.getValue());
        }
        return h;
    }

    /** TLVs are not used, but a header whose records overrun it, or whose CRC32C does not match, is refused (as haproxy does). */
    @Test
    void v2TlvsThatOverrunAndAWrongCrc32cAreRefused() {
        byte[] authority = {0x02, 0, 3, 'a', '.', 'b'};
        assertNotNull(byteByByte(withTlvs(authority, false)).header(), "a sound TLV");
        HeaderParser.Result r = byteByByte(withTlvs(authority, true));
        assertNotNull(r.header(), "with its right CRC32C: " + r.error());
        byte[] overrun = {0x02, 0, 9, 'a', '.', 'b'};
        assertNotNull(byteByByte(withTlvs(overrun, false)).error(), "a TLV longer than what is left");
        byte[] wrong = withTlvs(authority, true);
        wrong[wrong.length - 1] ^= 1;
        assertTrue(String.valueOf(byteByByte(wrong).error()).contains("CRC32C"), "a CRC32C that does not match");
        byte[] tampered = withTlvs(authority, true);
        tampered[17] ^= 1; // the source address changed after the checksum
        assertNotNull(byteByByte(tampered).error(), "an address changed under the checksum");
        assertNotNull(byteByByte(withTlvs(new byte[] {0x03, 0, 2, 0, 0}, false)).error(), "a CRC32C record of 2 bytes");
        assertNotNull(byteByByte(withTlvs(new byte[] {0x04, 0, 0, 0x01, 0}, false)).header(), "2 bytes of padding after the last TLV pass");
    }

    @Test
    void v2ProxyWithTlvsInAnySplitReadExactly() {
        byte[] h = v2(0x21, 0x11, ipv4Body(300));
        assertEquals(16, HeaderParser.wanted(h, 0));
        assertEquals(h.length - 16, HeaderParser.wanted(h, 16), "after the fixed part the exact rest is asked for");
        HeaderParser.Result r = byteByByte(h);
        assertEquals(SockAddr.parse("198.51.100.9", 40000), r.header().source());
        assertEquals(SockAddr.parse("10.0.0.1", 443), r.header().destination());
        assertEquals(h.length, r.header().length());
    }

    @Test
    void v2AsThisProxySendsItParsesBack() {
        SockAddr c = SockAddr.parse("2001:db8::5", 1234);
        SockAddr d = SockAddr.parse("::1", 80);
        for (ProxyProtocol pp : new ProxyProtocol[] {ProxyProtocol.V1, ProxyProtocol.V2}) {
            HeaderParser.Header h = byteByByte(pp.header(c, d)).header();
            assertEquals(c, h.source(), pp.toString());
            assertEquals(d, h.destination(), pp.toString());
        }
        HeaderParser.Header unix = byteByByte(ProxyProtocol.V2.header(SockAddr.unix("/x/y"), SockAddr.unix("/x/y"))).header();
        assertNull(unix.source());
    }

    @Test
    void v2LocalAndUnspecAnnounceNoAddress() {
        assertNull(byteByByte(v2(0x20, 0x00, new byte[0])).header().source());
        assertNull(byteByByte(v2(0x20, 0x11, ipv4Body(0))).header().source(), "LOCAL: addresses ignored");
        assertNull(byteByByte(v2(0x21, 0x00, new byte[0])).header().source());
        assertNull(byteByByte(v2(0x21, 0x31, new byte[216])).header().source(), "UNIX addresses: the connection's own");
    }

    @Test
    void v2BadSignatureVersionCommandFamilyOrLengthIsRefused() {
        byte[] h = v2(0x21, 0x11, ipv4Body(0));
        h[5] = 0x0E;
        assertNotNull(HeaderParser.parse(h, 6).error(), "bad signature: refused at the byte");
        assertNotNull(byteByByte(v2(0x11, 0x11, ipv4Body(0))).error(), "version 1 in a v2 header");
        assertNotNull(byteByByte(v2(0x22, 0x11, ipv4Body(0))).error(), "command 2");
        assertNotNull(byteByByte(v2(0x21, 0x41, ipv4Body(0))).error(), "family 4");
        assertNotNull(byteByByte(v2(0x21, 0x12, ipv4Body(0))).error(), "UDP on a stream listener");
        assertNotNull(byteByByte(v2(0x21, 0x11, new byte[8])).error(), "too short for IPv4 addresses");
        assertNotNull(byteByByte(v2(0x21, 0x21, new byte[12])).error(), "too short for IPv6 addresses");
        byte[] huge = v2(0x21, 0x11, new byte[HeaderParser.MAX_HEADER]);
        assertNotNull(HeaderParser.parse(huge, 16).error(), "over the bound: refused before reading the body");
        assertTrue(HeaderParser.parse(v2(0x21, 0x11, ipv4Body(0)), 27).needsMore(), "truncated: more needed (then the deadline)");
    }
}
