package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.epollproxy.forward.tls.TlsServer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A TLS 1.3 client may send a second ClientHello, after the server's HelloRetryRequest; RFC 8446 §4.1.2 lets
 * it change its key share, cookie and a few others, never its server_name. The JDK's engine does not check
 * that: it takes the second hello's name for the certificate and the session. On a listener with routes, the
 * route was chosen by the first hello's name and the default route terminates: a client could ask for
 * "other.example" (no route, so the default backend) and then for "git.example" (which a route sends
 * elsewhere), and the default backend would get a session, a certificate choice and a PROXY header
 * authority for a name that the routes never let reach it. The proxy must refuse such a second hello.
 *
 * <p>The client here is raw bytes: a first hello whose key_share offers no key (so the server must ask
 * again, for x25519), then a second one with a random x25519 key, echoing the cookie if the server sent one.
 */
class HelloRetryNameTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void certificate() throws Exception {
        Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "t.key", "-out", "t.crt", "-days", "2", "-subj", "/CN=other.example",
                "-addext", "subjectAltName=DNS:other.example,DNS:git.example")
                .directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "openssl req");
        assertEquals(0, p.exitValue(), out);
    }

    static void u16(ByteArrayOutputStream o, int v) {
        o.write(v >> 8);
        o.write(v);
    }

    static void ext(ByteArrayOutputStream o, int type, byte[] body) {
        u16(o, type);
        u16(o, body.length);
        o.writeBytes(body);
    }

    static byte[] bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) b[i] = (byte) v[i];
        return b;
    }

    /** A TLS 1.3 ClientHello record for {@code name}: x25519 only, with {@code key} as its share (null: no share). */
    static byte[] hello(String name, byte[] key, byte[] cookie) {
        ByteArrayOutputStream ext = new ByteArrayOutputStream();
        byte[] host = name.getBytes(StandardCharsets.US_ASCII);
        ByteArrayOutputStream sni = new ByteArrayOutputStream();
        u16(sni, host.length + 3);
        sni.write(0);
        u16(sni, host.length);
        sni.writeBytes(host);
        ext(ext, 0, sni.toByteArray());
        ext(ext, 10, bytes(0, 2, 0, 0x1d)); // supported_groups: x25519
        ext(ext, 13, bytes(0, 4, 4, 3, 8, 4)); // signature_algorithms: ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256
        ext(ext, 43, bytes(2, 3, 4)); // supported_versions: TLS 1.3
        ByteArrayOutputStream share = new ByteArrayOutputStream();
        if (key == null) {
            u16(share, 0);
        } else {
            u16(share, 4 + key.length);
            u16(share, 0x1d);
            u16(share, key.length);
            share.writeBytes(key);
        }
        ext(ext, 51, share.toByteArray());
        if (cookie != null) ext(ext, 44, cookie);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        u16(body, 0x0303);
        body.writeBytes(new byte[32]); // random: zeros will do for a hello that never finishes
        body.write(0); // no session id
        u16(body, 2);
        u16(body, 0x1301); // TLS_AES_128_GCM_SHA256
        body.write(1);
        body.write(0);
        u16(body, ext.size());
        body.writeBytes(ext.toByteArray());
        ByteArrayOutputStream record = new ByteArrayOutputStream();
        record.writeBytes(bytes(22, 3, 1));
        u16(record, body.size() + 4);
        record.write(1);
        record.write(body.size() >> 16);
        u16(record, body.size() & 0xffff);
        record.writeBytes(body.toByteArray());
        return record.toByteArray();
    }

    /** One TLS record from {@code in}: its type, then its payload. */
    static byte[] record(DataInputStream in) throws IOException {
        int type = in.readUnsignedByte();
        in.readUnsignedShort();
        byte[] payload = new byte[in.readUnsignedShort()];
        in.readFully(payload);
        byte[] out = new byte[payload.length + 1];
        out[0] = (byte) type;
        System.arraycopy(payload, 0, out, 1, payload.length);
        return out;
    }

    /** The cookie extension's body in a HelloRetryRequest (the record as {@link #record} returns it), or null. */
    static byte[] cookie(byte[] hrr) {
        int p = 1 + 4 + 2 + 32; // type, handshake header, version, random
        p += 1 + (hrr[p] & 0xff); // session id echo
        p += 2 + 1; // suite, compression
        int end = p + 2 + ((hrr[p] & 0xff) << 8 | (hrr[p + 1] & 0xff));
        p += 2;
        while (p < end) {
            int type = (hrr[p] & 0xff) << 8 | (hrr[p + 1] & 0xff);
            int len = (hrr[p + 2] & 0xff) << 8 | (hrr[p + 3] & 0xff);
            if (type == 44) return java.util.Arrays.copyOfRange(hrr, p + 4, p + 4 + len);
            p += 4 + len;
        }
        return null;
    }

    /** HelloRetryRequest's random (RFC 8446 §4.1.3): SHA-256 of "HelloRetryRequest". */
    static final byte[] HRR_RANDOM = java.util.HexFormat.of().parseHex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c");

    /**
     * Sends the first hello for {@code first}, reads the HelloRetryRequest, sends the second for {@code second};
     * returns the first record that answers it (type, then payload), or null if the proxy closed instead.
     */
    static byte[] retry(TestProxy proxy, String first, String second) throws Exception {
        try (Socket c = proxy.connect()) {
            DataInputStream in = new DataInputStream(c.getInputStream());
            c.getOutputStream().write(hello(first, null, null));
            byte[] hrr = record(in);
            assertEquals(22, hrr[0], "a handshake record");
            assertEquals(2, hrr[1], "a ServerHello");
            assertTrue(java.util.Arrays.equals(HRR_RANDOM, java.util.Arrays.copyOfRange(hrr, 7, 39)), "a HelloRetryRequest");
            byte[] key = new byte[32];
            new Random(7).nextBytes(key);
            c.getOutputStream().write(bytes(20, 3, 3, 0, 1, 1)); // change_cipher_spec, as middlebox-compatible clients send
            c.getOutputStream().write(hello(second, key, cookie(hrr)));
            while (true) {
                byte[] r;
                try {
                    r = record(in);
                } catch (IOException e) { // EOF or reset: the proxy closed
                    return null;
                }
                if (r[0] != 20) return r; // the server's change_cipher_spec says nothing
            }
        }
    }

    static Forward listener(int defaultBackend, int routeBackend) throws Exception {
        TlsServer tls = new TlsServer("test", List.of(new TlsServer.CertFiles(dir.resolve("t.crt"), dir.resolve("t.key"))), List.of(), null,
                TlsServer.ClientAuth.NONE, 60_000);
        return RouteTest.listener(defaultBackend, RouteTest.FAST, ProxyProtocol.OFF, false, "sni:git.example", routeBackend).withTls(tls);
    }

    @Test
    void aSecondClientHelloAskingForAnotherNameIsRefused() throws Exception {
        try (TestBackend def = TestBackend.echo(); TestBackend routed = TestBackend.echo();
                TestProxy proxy = new TestProxy(Settings.DEFAULTS, List.of(listener(def.port(), routed.port())))) {
            byte[] answer = retry(proxy, "other.example", "git.example");
            assertTrue(answer == null || answer[0] == 21, "an alert or the close, not the server's flight: record type " + (answer == null ? "-" : answer[0]));
            proxy.awaitLog("end=tls-handshake");
            String line = proxy.log().lines().filter(l -> l.contains("end=tls-handshake")).findFirst().orElseThrow();
            assertTrue(line.contains("why=\"the second ClientHello asks for git.example, the first asked for other.example\""), line);
            assertTrue(line.contains("sni=\"other.example\""), line);
            assertEquals(0, def.accepted.get(), "no byte reached the default backend");
            assertEquals(0, routed.accepted.get());
        }
    }

    @Test
    void aSecondClientHelloForTheSameNameGoesOn() throws Exception {
        try (TestBackend def = TestBackend.echo(); TestBackend routed = TestBackend.echo();
                TestProxy proxy = new TestProxy(Settings.DEFAULTS, List.of(listener(def.port(), routed.port())))) {
            byte[] answer = retry(proxy, "other.example", "OTHER.example");
            assertTrue(answer != null && answer[0] == 22 && answer[1] == 2, "the server's ServerHello");
        }
    }
}
