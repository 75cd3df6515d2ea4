package org.epollproxy.cli;

import static org.epollproxy.cli.RouteIT.program;
import static org.epollproxy.cli.RouteIT.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.CompletableFuture;
import org.epollproxy.Ports;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PROXY protocol v2 from terminating listeners, through the real jar: the TLS facts (ALPN, SNI, version,
 * cipher) reach the backend; from a listener that asks for client certificates (curl with and without one),
 * PP2_TYPE_SSL's client flags say whether a certificate came, and PP2_SUBTYPE_SSL_CN carries its CN, as
 * haproxy sends them.
 *
 * <p>The tests share one proxy with --send-proxy v2 (an option of the whole process), a listener and a
 * backend of its own for each, and the certificates made once: one start of a C2 JVM instead of two.
 */
class TlsProxyHeaderIT {

    /** srv.example (the server), ca (the client CA) and alice (O=Example, CN=alice, a client it issued). */
    @TempDir
    static Path certs;

    static JarProcess shared;
    static ServerSocket alpnBackend;
    static ServerSocket clientCaBackend;
    static int alpnPort;
    static int clientCaPort;

    @BeforeAll
    static void sharedProxy() throws Exception {
        Path dir = certs;
        String openssl = program("openssl");
        TlsIT.certificate(dir, "srv.example", false);
        assertEquals(0, run(dir, openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=test client CA").status());
        assertEquals(0, run(dir, openssl, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "alice.key", "-out", "alice.csr", "-subj", "/O=Example/CN=alice").status());
        assertEquals(0, run(dir, openssl, "x509", "-req", "-in", "alice.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", "alice.crt", "-days", "2").status());
        // smith: a CN with a comma (company CAs write "Surname, Given name"), in an RDN with a second attribute.
        assertEquals(0, run(dir, openssl, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-multivalue-rdn",
                "-keyout", "smith.key", "-out", "smith.csr", "-subj", "/O=Example/CN=Smith\\, John+OU=Sales").status());
        assertEquals(0, run(dir, openssl, "x509", "-req", "-in", "smith.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", "smith.crt", "-days", "2").status());
        alpnBackend = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        clientCaBackend = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        alpnPort = Ports.free();
        clientCaPort = Ports.free();
        String cert = ":" + dir.resolve("srv.example.crt") + ":" + dir.resolve("srv.example.key");
        shared = new JarProcess(java.util.List.of(TlsIT.LATE_JIT), "--send-proxy", "v2",
                "-L", alpnPort + ":127.0.0.1:" + alpnBackend.getLocalPort(), "--tls-cert", alpnPort + cert, "--tls-alpn", alpnPort + ":http/1.1",
                "-L", clientCaPort + ":127.0.0.1:" + clientCaBackend.getLocalPort(), "--tls-cert", clientCaPort + cert,
                "--tls-client-ca-optional", clientCaPort + ":" + dir.resolve("ca.crt"));
        TlsReloadIT.line(shared);
        TlsReloadIT.line(shared);
    }

    @AfterAll
    static void stopSharedProxy() throws Exception {
        if (shared != null) shared.close();
        if (alpnBackend != null) alpnBackend.close();
        if (clientCaBackend != null) clientCaBackend.close();
    }

    /** PP2_TYPE_SSL's value: client flags (1 byte), verify (4), then sub-TLVs. */
    private static byte[] sslTlv(byte[] tlvs) {
        for (int i = 0; i + 3 <= tlvs.length;) {
            int type = tlvs[i] & 0xff;
            int len = ((tlvs[i + 1] & 0xff) << 8) | (tlvs[i + 2] & 0xff);
            if (type == 0x20) return java.util.Arrays.copyOfRange(tlvs, i + 3, i + 3 + len);
            i += 3 + len;
        }
        throw new AssertionError("no PP2_TYPE_SSL");
    }

    @Test
    void sendProxyV2CarriesTheTlsFactsToTheBackend() throws Exception {
        int port = alpnPort;
        CompletableFuture<byte[]> header = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try (Socket c = alpnBackend.accept()) {
                DataInputStream in = new DataInputStream(c.getInputStream());
                byte[] fixed = new byte[16];
                in.readFully(fixed);
                byte[] rest = new byte[((fixed[14] & 0xff) << 8) | (fixed[15] & 0xff)];
                in.readFully(rest);
                header.complete(rest);
                c.getOutputStream().write("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n".getBytes(StandardCharsets.US_ASCII));
            } catch (Exception e) {
                header.completeExceptionally(e);
            }
        });
        t.setDaemon(true);
        t.start();
        RouteIT.Result r = TlsIT.curl(certs, "srv.example", port);
        assertEquals("ok\n", r.output());
        String tlvs = new String(header.get(30, TimeUnit.SECONDS), StandardCharsets.ISO_8859_1);
        assertTrue(tlvs.contains("\u0001\u0000\u0008http/1.1"), "PP2_TYPE_ALPN: " + tlvs);
        assertTrue(tlvs.contains("\u0002\u0000\u000bsrv.example"), "PP2_TYPE_AUTHORITY (the SNI): " + tlvs);
        assertTrue(tlvs.contains("\u0021\u0000\u0007TLSv1.3"), "PP2_SUBTYPE_SSL_VERSION: " + tlvs);
        assertTrue(tlvs.contains("\u0023\u0000\u0016TLS_AES_128_GCM_SHA256"), "PP2_SUBTYPE_SSL_CIPHER: " + tlvs);
        assertTrue(tlvs.contains("\u0020\u0000"), "PP2_TYPE_SSL: " + tlvs);
    }

    @Test
    void theSslTlvSaysWhetherAClientCertificateCameAndCarriesItsCn() throws Exception {
        Path dir = certs;
        int port = clientCaPort;
        ServerSocket backend = clientCaBackend;
        BlockingQueue<byte[]> headers = new LinkedBlockingQueue<>();
        Thread t = new Thread(() -> {
            for (int n = 0; n < 3; n++) {
                try (Socket c = backend.accept()) {
                    DataInputStream in = new DataInputStream(c.getInputStream());
                    byte[] fixed = new byte[16];
                    in.readFully(fixed);
                    byte[] rest = new byte[((fixed[14] & 0xff) << 8) | (fixed[15] & 0xff)];
                    in.readFully(rest);
                    headers.add(java.util.Arrays.copyOfRange(rest, 12, rest.length)); // after the IPv4 addresses and ports
                    c.getOutputStream().write("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n".getBytes(StandardCharsets.US_ASCII));
                } catch (Exception e) {
                    return;
                }
            }
        });
        t.setDaemon(true);
        t.start();
        assertEquals("ok\n", TlsIT.curl(dir, "srv.example", port, "--cert", "alice.crt", "--key", "alice.key").output());
        byte[] with = sslTlv(headers.poll(90, TimeUnit.SECONDS));
        assertEquals(0x07, with[0], "PP2_CLIENT_SSL | PP2_CLIENT_CERT_CONN | PP2_CLIENT_CERT_SESS");
        assertEquals(0, with[1] | with[2] | with[3] | with[4], "verify: 0, the certificate passed");
        String subs = new String(with, 5, with.length - 5, StandardCharsets.ISO_8859_1);
        assertTrue(subs.contains("\"\0\5alice"), "PP2_SUBTYPE_SSL_CN: " + subs);

        assertEquals("ok\n", TlsIT.curl(dir, "srv.example", port).output());
        byte[] without = sslTlv(headers.poll(90, TimeUnit.SECONDS));
        assertEquals(0x01, without[0], "PP2_CLIENT_SSL only: no certificate");
        assertFalse(new String(without, StandardCharsets.ISO_8859_1).contains("\"\0"), "no PP2_SUBTYPE_SSL_CN");
        TlsIT.awaitLine(shared, port, "subject=CN=alice,O=Example\"");

        // Its subject as RFC 2253 text is OU=Sales+CN=Smith\, John,O=Example: the CN is its value unescaped,
        // neither cut at the escaped comma nor lost in the RDN with two attributes.
        assertEquals("ok\n", TlsIT.curl(dir, "srv.example", port, "--cert", "smith.crt", "--key", "smith.key").output());
        byte[] smith = sslTlv(headers.poll(90, TimeUnit.SECONDS));
        String smithSubs = new String(smith, 5, smith.length - 5, StandardCharsets.ISO_8859_1);
        assertTrue(smithSubs.contains("\"\0\u000bSmith, John\u0023"), "PP2_SUBTYPE_SSL_CN is the certificate's CN: " + smithSubs);
    }
}
