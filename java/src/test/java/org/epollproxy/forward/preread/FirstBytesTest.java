package org.epollproxy.forward.preread;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The ClientHello parser and the first-bytes classifier on hand-made input: byte by byte, split records,
 * GREASE, ECH, SSLv2, and every length made to lie.
 */
class FirstBytesTest {
    static final int CAP = 16384;

    static FirstBytes.Verdict all(byte[] b) {
        return FirstBytes.classify(b, b.length, false, CAP);
    }

    /** Feeds {@code b} one byte at a time: undecided until the last byte, then the verdict of the whole. */
    static FirstBytes.Verdict byteByByte(byte[] b) {
        for (int n = 0; n < b.length; n++) {
            assertFalse(FirstBytes.classify(b, n, false, CAP).decided(), "decided after " + n + " of " + b.length + " bytes");
        }
        return FirstBytes.classify(b, b.length, false, CAP);
    }

    @Test
    void aBrowserLikeHelloGivesItsNameAndAlpnOnlyOnceItsLastByteCame() {
        byte[] b = Hellos.browser("Www.Example.COM.", "h2", "http/1.1");
        assertTrue(b.length > 1500, "a post-quantum sized hello: " + b.length);
        FirstBytes.Verdict v = byteByByte(b);
        assertEquals(FirstBytes.Proto.TLS, v.proto());
        assertEquals("www.example.com", v.sni(), "lower case, trailing dot gone");
        assertEquals(List.of("h2", "http/1.1"), v.alpn());
        PrereadChecks.check(b);
    }

    @Test
    void aHelloSplitOverManyRecordsIsReassembled() {
        byte[] msg = Hellos.message(List.of(Hellos.sni("a.example"), Hellos.alpn("acme-tls/1")));
        for (int per : new int[] {1, 2, 3, 7, 100}) {
            FirstBytes.Verdict v = byteByByte(Hellos.records(msg, per));
            assertEquals("a.example", v.sni(), "records of " + per);
            assertEquals(List.of("acme-tls/1"), v.alpn());
        }
    }

    @Test
    void bytesAfterTheHelloDoNotChangeTheVerdict() {
        byte[] hello = Hellos.browser("x.test", "h2");
        byte[] more = Arrays.copyOf(hello, hello.length + 40); // e.g. 0-RTT data right behind it
        more[hello.length] = 23;
        assertEquals(all(hello), all(more));
    }

    @Test
    void greaseAndEchAreSkippedAndTheOuterNameRoutes() {
        byte[] b = Hellos.records(Hellos.message(List.of(Hellos.raw(Hellos.GREASE_1, 0), Hellos.raw(Hellos.EXT_ECH, 200),
                Hellos.sni("public.example"), Hellos.raw(Hellos.GREASE_2, 3))), 1 << 14);
        FirstBytes.Verdict v = all(b);
        assertEquals(FirstBytes.Proto.TLS, v.proto());
        assertEquals("public.example", v.sni());
    }

    @Test
    void aHelloWithoutExtensionsOrWithoutSniIsTlsWithoutAName() {
        FirstBytes.Verdict none = all(Hellos.records(Hellos.message(null), 1 << 14));
        assertEquals(FirstBytes.Proto.TLS, none.proto());
        assertNull(none.sni());
        FirstBytes.Verdict alpnOnly = all(Hellos.records(Hellos.message(List.of(Hellos.alpn("h2"))), 1 << 14));
        assertNull(alpnOnly.sni());
        assertEquals(List.of("h2"), alpnOnly.alpn());
    }

    @Test
    void anSslv2CompatibleHelloIsTlsWithoutAName() {
        // 0x80 len, type 1, version 3.1, cipher spec length 3, session id 0, challenge 16 + the spec and challenge
        byte[] b = new byte[2 + 9 + 3 + 16];
        b[0] = (byte) 0x80;
        b[1] = (byte) (b.length - 2);
        b[2] = 1;
        b[3] = 3;
        b[4] = 1;
        b[6] = 3;
        b[10] = 16;
        FirstBytes.Verdict v = all(b);
        assertEquals(FirstBytes.Proto.TLS, v.proto());
        assertNull(v.sni());
    }

    @Test
    void sshAndHttpAreKnownByTheirFirstBytes() {
        assertEquals(FirstBytes.Proto.SSH, byteByByte(ascii("SSH-")).proto());
        assertEquals(FirstBytes.Proto.SSH, all(ascii("SSH-2.0-OpenSSH_9.6\r\n")).proto());
        assertEquals(FirstBytes.Proto.HTTP, byteByByte(ascii("GET ")).proto());
        assertEquals(FirstBytes.Proto.HTTP, all(ascii("OPTIONS * HTTP/1.1\r\n")).proto());
        assertEquals(FirstBytes.Proto.OTHER, all(ascii("GEX")).proto());
        assertEquals(FirstBytes.Proto.OTHER, all(ascii("hello")).proto());
        assertEquals(FirstBytes.Proto.OTHER, all(new byte[] {0}).proto());
        assertFalse(all(ascii("SS")).decided(), "SS may still be SSH-");
        assertEquals(FirstBytes.Proto.OTHER, FirstBytes.classify(ascii("SS"), 2, true, CAP).proto(), "unless the client closed");
    }

    @Test
    void everyLengthThatLiesIsABadHello() {
        byte[] msg = Hellos.message(List.of(Hellos.sni("a.example"), Hellos.alpn("h2")));
        byte[] good = Hellos.records(msg, 1 << 14);
        // offsets in the record: 5 record header, 4 handshake header, 2+32 version+random, 1+32 session id
        int sid = 5 + 4 + 34;
        int suites = sid + 1 + 32;
        int comp = suites + 2 + 6;
        int exts = comp + 2;
        int firstExt = exts + 2;
        assertBad(with(good, sid, 33), "session id");
        assertBad(with(good, suites + 1, 7), "cipher suites length");
        assertBad(with(good, comp, 0), "compression");
        assertBad(with(good, exts + 1, good[exts + 1] + 1), "extensions length");
        assertBad(with(good, firstExt + 3, good[firstExt + 3] + 1), "server_name list");
        assertBad(with(good, firstExt + 5, good[firstExt + 5] + 1), "server_name list needs");
        assertBad(with(good, firstExt + 8, good[firstExt + 8] + 5), "server name");
        assertBad(with(good, 5, 2), "not a ClientHello");
        assertBad(with(good, 1, 9), "not TLS");
        assertBad(with(good, 8, good[8] - 1), ""); // the handshake length shorter than its body
    }

    @Test
    void duplicatesAndBadNamesAreRefused() {
        assertBad(Hellos.records(Hellos.message(List.of(Hellos.sni("a.example"), Hellos.sni("b.example"))), 1 << 14), "twice");
        assertBad(Hellos.records(Hellos.message(List.of(Hellos.sni("a\"b.example"))), 1 << 14), "byte 0x22");
        assertBad(Hellos.records(Hellos.message(List.of(Hellos.sni("a..example"))), 1 << 14), "empty label");
        assertBad(Hellos.records(Hellos.message(List.of(Hellos.alpn(""))), 1 << 14), "empty ALPN");
    }

    /** A server_name as a router must read it: what a backend's TLS stack would refuse or read otherwise is refused here. */
    @Test
    void hostileServerNamesAreRefusedAndTheLongestNameIsRead() {
        assertBad(Hellos.records(Hellos.message(List.of(Hellos.sni("a\0.example"))), 1 << 14), "byte 0x00"); // NUL: C stacks stop there
        assertBad(Hellos.records(Hellos.message(List.of(Hellos.sni("."))), 1 << 14), "empty label");
        assertBad(Hellos.records(Hellos.message(List.of(Hellos.sni(".."))), 1 << 14), "empty label");
        assertBad(Hellos.records(Hellos.message(List.of(Hellos.sni(".a.example"))), 1 << 14), "empty label");
        assertBad(Hellos.records(Hellos.message(List.of(Hellos.sni("b\u00c3\u00bccher.example"))), 1 << 14), "byte 0xc3"); // UTF-8: IDNs come as xn--
        String label = "a".repeat(63);
        String longest = label + "." + label + "." + label + "." + "a".repeat(61); // 253 characters, the most DNS allows
        FirstBytes.Verdict v = all(Hellos.records(Hellos.message(List.of(Hellos.sni(longest.toUpperCase(java.util.Locale.ROOT) + "."))), 1 << 14));
        assertEquals(longest, v.sni(), "253 characters and the trailing dot: read, in lower case, without the dot");
        assertBad(Hellos.records(Hellos.message(List.of(Hellos.sni(longest + "a."))), 1 << 14), "host name of 255 bytes");
        assertEquals("xn--bcher-kva.example", all(Hellos.browser("xn--bcher-kva.example")).sni(), "an IDN as its A-label");
    }

    @Test
    void aRecordLengthOverTwoToTheFourteenOrAHugeHelloNeverWaits() {
        byte[] b = Hellos.records(Hellos.message(null), 1 << 14);
        assertBad(with(with(b, 3, 0x40), 4, 1), "over 2^14");
        byte[] huge = {22, 3, 1, 0x40, 0, 1, 0x7f, (byte) 0xff, (byte) 0xff};
        assertEquals(FirstBytes.TOO_LONG, all(huge).end(), "a hello of 8 MB is refused from its header, not waited for");
    }

    @Test
    void aTruncatedHelloIsBadWhenTheClientClosesAndTooLongAtTheCap() {
        byte[] b = Hellos.browser("a.example", "h2");
        byte[] cut = Arrays.copyOf(b, b.length - 1);
        assertEquals(FirstBytes.BAD_HELLO, FirstBytes.classify(cut, cut.length, true, CAP).end());
        assertEquals(FirstBytes.TOO_LONG, FirstBytes.classify(b, b.length, false, 1000).end());
        assertEquals(FirstBytes.TOO_LONG, FirstBytes.classify(ascii("GE"), 2, false, 2).end());
    }

    @Test
    void randomBytesAndMutatedHellosKeepTheRules() {
        Random r = new Random(23);
        byte[] hello = Hellos.browser("m.example", "h2");
        for (int i = 0; i < 300; i++) {
            byte[] b = hello.clone();
            for (int k = 0; k < 3; k++) b[r.nextInt(Math.min(b.length, 200))] = (byte) r.nextInt(256);
            PrereadChecks.check(Arrays.copyOf(b, Math.min(b.length, 400)));
            byte[] noise = new byte[r.nextInt(64)];
            r.nextBytes(noise);
            PrereadChecks.check(noise);
        }
    }

    static byte[] with(byte[] b, int at, int value) {
        byte[] c = b.clone();
        c[at] = (byte) value;
        return c;
    }

    static void assertBad(byte[] b, String why) {
        FirstBytes.Verdict v = FirstBytes.classify(b, b.length, false, CAP);
        if (v.end() == null) v = FirstBytes.classify(b, b.length, true, CAP); // a length that claims more than came
        assertEquals(FirstBytes.BAD_HELLO, v.end(), "verdict " + v);
        assertTrue(v.why().contains(why), v.why() + " should name " + why);
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
