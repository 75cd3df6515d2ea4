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
import org.epollproxy.Ports;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PROXY protocol v2 from a terminating listener that asks for client certificates (curl with and without
 * one, through the real jar): PP2_TYPE_SSL's client flags say whether a certificate came, and
 * PP2_SUBTYPE_SSL_CN carries its CN, as haproxy sends them.
 */
class TlsProxyHeaderIT {

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
    void theSslTlvSaysWhetherAClientCertificateCameAndCarriesItsCn(@TempDir Path dir) throws Exception {
        String openssl = program("openssl");
        TlsIT.certificate(dir, "srv.example", false);
        assertEquals(0, run(dir, openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=test client CA").status());
        assertEquals(0, run(dir, openssl, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "alice.key", "-out", "alice.csr", "-subj", "/O=Example/CN=alice").status());
        assertEquals(0, run(dir, openssl, "x509", "-req", "-in", "alice.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", "alice.crt", "-days", "2").status());
        int port = Ports.free();
        BlockingQueue<byte[]> headers = new LinkedBlockingQueue<>();
        try (ServerSocket backend = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            Thread t = new Thread(() -> {
                for (int n = 0; n < 2; n++) {
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
            try (JarProcess p = new JarProcess("-L", port + ":127.0.0.1:" + backend.getLocalPort(), "--send-proxy", "v2",
                    "--tls-cert", port + ":" + dir.resolve("srv.example.crt") + ":" + dir.resolve("srv.example.key"),
                    "--tls-client-ca-optional", port + ":" + dir.resolve("ca.crt"))) {
                TlsReloadIT.line(p);
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
                TlsReloadIT.awaitErr(p, "subject=CN=alice,O=Example\"");
            }
        }
    }
}
