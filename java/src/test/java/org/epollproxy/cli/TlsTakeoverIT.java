package org.epollproxy.cli;

import static org.epollproxy.cli.RouteIT.program;
import static org.epollproxy.cli.RouteIT.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.epollproxy.Ports;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 25: TLS termination works with the other features an upgrade touches. A terminating listener with
 * two backends balanced round robin and a per-client limit is handed to a new process by {@code --takeover}:
 * the TLS connection open through the old process keeps its session and its bytes until it ends, the old
 * process drains and exits 0, new clients complete their handshakes with the new process and reach both
 * backends, and a client over its limit is turned away ({@code end=client-limit}).
 */
class TlsTakeoverIT {

    @Test
    void aTakeoverHandsOnATlsListenerAndTheOldProcessFinishesItsTlsConnection(@TempDir Path dir) throws Exception {
        assertEquals(0, run(dir, program("openssl"), "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "srv.key", "-out", "srv.crt", "-days", "2", "-subj", "/CN=srv.example", "-addext",
                "subjectAltName=DNS:srv.example").status());
        SSLContext client = trusting(dir.resolve("srv.crt"));
        Path ctl = dir.resolve("ctl.sock");
        int port = Ports.free();
        try (Traffic.Echo a = new Traffic.Echo(); Traffic.Echo b = new Traffic.Echo()) {
            List<String> args = List.of("-L", port + ":127.0.0.1:" + a.port() + ",127.0.0.1:" + b.port(), "--balance", "roundrobin",
                    "--tls-cert", port + ":" + dir.resolve("srv.crt") + ":" + dir.resolve("srv.key"), "--control", ctl.toString(),
                    "--drain-timeout", "60", "--max-connections-per-client", "3");
            try (JarProcess old = new JarProcess(List.of(TlsIT.LATE_JIT), args.toArray(String[]::new))) {
                assertTrue(old.nextLine().startsWith("listening tcp 127.0.0.1:" + port), old.stderr());
                try (SSLSocket held = connect(client, port)) {
                    echo(held, "through the old process");
                    List<String> takeover = new ArrayList<>(args);
                    takeover.addAll(List.of("--takeover", ctl.toString()));
                    try (JarProcess neu = new JarProcess(List.of(TlsIT.LATE_JIT), takeover.toArray(String[]::new))) {
                        assertTrue(neu.nextLine().startsWith("listening tcp 127.0.0.1:" + port), neu.stderr());
                        old.awaitStderr("drain: began (takeover)");
                        // New clients: handshakes with the new process, both backends in turn.
                        for (int i = 0; i < 4; i++) {
                            try (SSLSocket s = connect(client, port)) {
                                echo(s, "through the new process " + i);
                            }
                        }
                        // Ended, as the proxy sees it, before the next three: the limit counts open connections.
                        Set<String> backends = backendsOfEndedConnections(neu, 4);
                        assertEquals(Set.of("127.0.0.1:" + a.port(), "127.0.0.1:" + b.port()), backends, "round robin over both backends");
                        // Per-client limits hold for TLS clients too: a fourth at once is turned away.
                        List<SSLSocket> three = new ArrayList<>();
                        try {
                            for (int i = 0; i < 3; i++) {
                                three.add(connect(client, port));
                                echo(three.get(i), "held " + i);
                            }
                            assertThrows(java.io.IOException.class, () -> connect(client, port).close(), "a fourth connection at once");
                            neu.awaitStderr("end=client-limit");
                        } finally {
                            for (SSLSocket s : three) s.close();
                        }
                        // The held connection is still the old process's, with its session.
                        echo(held, "still through the old process");
                        held.close();
                        assertEquals(0, old.exitCode(60), old.stderr());
                        assertTrue(old.stderr().contains("; 0 connection(s) reset"), old.stderr());
                        neu.signal("TERM");
                        assertEquals(0, neu.exitCode(60), neu.stderr());
                    }
                }
            }
        }
    }

    /** The backends named by the process's connection lines (on stderr), once there are {@code n} of them (60 s at most). */
    private static Set<String> backendsOfEndedConnections(JarProcess p, int n) throws InterruptedException {
        Pattern backend = Pattern.compile(" backend=(\\S+) .* end=client-closed");
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            List<String> found = new ArrayList<>();
            for (String l : p.stderr().split("\n")) {
                Matcher m = backend.matcher(l);
                if (m.find()) found.add(m.group(1));
            }
            if (found.size() >= n) return new HashSet<>(found);
            if (System.nanoTime() > end) throw new AssertionError("only " + found.size() + " connection lines of " + n + " within 60 s:\n" + p.stderr());
            Thread.sleep(20);
        }
    }

    private static SSLContext trusting(Path cert) throws Exception {
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        ks.load(null, null);
        try (InputStream in = Files.newInputStream(cert)) {
            ks.setCertificateEntry("srv", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    private static SSLSocket connect(SSLContext ctx, int port) throws Exception {
        // Layered over a plain socket to loopback, so the name checked against the certificate is srv.example.
        java.net.Socket plain = new java.net.Socket("127.0.0.1", port);
        SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(plain, "srv.example", port, true);
        s.setSoTimeout(60_000);
        var params = s.getSSLParameters();
        params.setEndpointIdentificationAlgorithm("HTTPS");
        s.setSSLParameters(params);
        s.startHandshake();
        return s;
    }

    private static void echo(SSLSocket s, String text) throws Exception {
        byte[] out = text.getBytes(StandardCharsets.UTF_8);
        s.getOutputStream().write(out);
        s.getOutputStream().flush();
        assertArrayEquals(out, s.getInputStream().readNBytes(out.length), text);
    }
}
