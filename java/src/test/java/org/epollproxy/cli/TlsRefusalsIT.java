package org.epollproxy.cli;

import static org.epollproxy.cli.RouteIT.program;
import static org.epollproxy.cli.RouteIT.run;
import static org.epollproxy.cli.TlsIT.alert;
import static org.epollproxy.cli.TlsIT.awaitLine;
import static org.epollproxy.cli.TlsIT.certificate;
import static org.epollproxy.cli.TlsIT.curl;
import static org.epollproxy.cli.TlsIT.drain;
import static org.epollproxy.cli.TlsIT.httpBackend;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.epollproxy.Ports;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a TLS port refuses, through the real jar: clients without the required client certificate or with one
 * from another CA, a plaintext client, a handshake cut short, a client that stalls, a thousand half-open
 * handshakes, a forged record after the handshake, and bad TLS options (usage errors). Apart from
 * {@link TlsIT} so that the two run side by side.
 *
 * <p>The certificates are made once for the class, and the tests of a client share two proxies (a listener
 * of its own for each, whose log lines and metrics it waits for): two starts of a C2 JVM instead of four.
 * One has the default handshake timeout, for the clients that complete theirs on a busy machine; the other
 * a timeout of 3 s, for the thousand half-open handshakes to be held a while and the stalled client to be
 * closed soon. The bad options each start a process of their own: a usage error is the process's exit.
 */
class TlsRefusalsIT {

    /** srv.example (the server), ca (the client CA) and alice (a client it issued), mallory (self-signed). */
    @TempDir
    static Path certs;

    static HttpServer http;
    static JarProcess shared;
    /** The proxy whose handshake timeout is 3 s. */
    static JarProcess shortTimeout;
    static int clientCaPort, forgedPort, plaintextPort, halfOpenPort, stats, shortTimeoutStats;

    @BeforeAll
    static void sharedProxy() throws Exception {
        Path dir = certs;
        certificate(dir, "srv.example", false);
        RouteIT.Result r = run(dir, program("openssl"), "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=test client CA");
        assertEquals(0, r.status(), r.output());
        assertEquals(0, run(dir, program("openssl"), "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "alice.key", "-out", "alice.csr", "-subj", "/CN=alice").status());
        assertEquals(0, run(dir, program("openssl"), "x509", "-req", "-in", "alice.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", "alice.crt", "-days", "2").status());
        certificate(dir, "mallory", false);
        http = httpBackend();
        clientCaPort = Ports.free();
        forgedPort = Ports.free();
        plaintextPort = Ports.free();
        halfOpenPort = Ports.free();
        stats = Ports.free();
        shortTimeoutStats = Ports.free();
        String backend = "127.0.0.1:" + http.getAddress().getPort();
        String cert = ":" + dir.resolve("srv.example.crt") + ":" + dir.resolve("srv.example.key");
        shared = new JarProcess(java.util.List.of(TlsIT.LATE_JIT), "-L", clientCaPort + ":" + backend, "--tls-cert", clientCaPort + cert,
                "--tls-client-ca", clientCaPort + ":" + dir.resolve("ca.crt"),
                "-L", forgedPort + ":" + backend, "--tls-cert", forgedPort + cert, "--stats", Integer.toString(stats));
        // The usual compile thresholds here, not LATE_JIT: this proxy's first full handshakes (the curls at the
        // ends of its tests) come under its 3 s timeout, and on a loaded machine a first handshake that runs
        // interpreted longer may not make it.
        shortTimeout = new JarProcess(
                "-L", plaintextPort + ":" + backend, "--tls-cert", plaintextPort + cert,
                "-L", halfOpenPort + ":" + backend, "--tls-cert", halfOpenPort + cert,
                "--tls-handshake-timeout", "3s", "--stats", Integer.toString(shortTimeoutStats));
        for (int i = 0; i < 2; i++) { // one line per forward
            shared.nextLine();
            shortTimeout.nextLine();
        }
    }

    @AfterAll
    static void stopSharedProxy() {
        if (shared != null) shared.close();
        if (shortTimeout != null) shortTimeout.close();
        if (http != null) http.stop(0);
    }

    /** A page of the stats listener, fetched in this JVM: a test that polls one starts no process per look. */
    static String get(String url) throws Exception {
        java.net.HttpURLConnection c = (java.net.HttpURLConnection) java.net.URI.create(url).toURL().openConnection();
        c.setConnectTimeout(30_000);
        c.setReadTimeout(30_000);
        try (InputStream in = c.getInputStream()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } finally {
            c.disconnect();
        }
    }

    /**
     * curl through a listener of the proxy whose handshake timeout is 3 s. On a machine as busy as load 29 on 2
     * cores a handshake can take longer, and the proxy ends it as it is told to; such an attempt alone is tried
     * again (4 times at most): one whose end the log does not name as that timeout is the answer.
     */
    static RouteIT.Result curlUnderTheShortTimeout(Path dir, int port) throws Exception {
        String timedOut = "end=tls-handshake why=\"no complete handshake within 3000 ms\"";
        for (int attempt = 1; ; attempt++) {
            long before = lines(shortTimeout, port, timedOut);
            RouteIT.Result r = curl(dir, "srv.example", port);
            if (r.status() == 0 || attempt == 5) return r;
            long end = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
            while (lines(shortTimeout, port, timedOut) == before) {
                if (System.nanoTime() > end) return r; // not the timeout: the failure as it is
                Thread.sleep(20);
            }
        }
    }

    /** The log lines of the listener on {@code port} that hold {@code text}. */
    private static long lines(JarProcess p, int port, String text) {
        String listen = " listen=127.0.0.1:" + port + " ";
        return java.util.Arrays.stream(p.stderr().split("\n")).filter(l -> l.contains(listen) && l.contains(text)).count();
    }

    @Test
    void aRequiredClientCertificateLetsItsHolderInAndRefusesOthersInTheHandshake() throws Exception {
        Path dir = certs;
        int port = clientCaPort;
        Process open = null;
        try {
            RouteIT.Result with = curl(dir, "srv.example", port, "--cert", "alice.crt", "--key", "alice.key");
            assertEquals(0, with.status(), with.output());
            assertEquals("plain backend\n", with.output());
            awaitLine(shared, port, "subject=CN=alice\"");
            RouteIT.Result without = curl(dir, "srv.example", port);
            assertTrue(without.status() != 0, "refused without a certificate: " + without.output());
            awaitLine(shared, port, "backend=- up=0 down=0");
            awaitLine(shared, port, "end=tls-handshake why=\"" + alert("certificate_required") + "Empty client certificate chain\"");
            // a certificate from another CA: refused as well
            RouteIT.Result other = curl(dir, "srv.example", port, "--cert", "mallory.crt", "--key", "mallory.key");
            assertTrue(other.status() != 0, other.output());
            awaitLine(shared, port, "PKIX path");
            String metrics = run(dir, program("curl"), "-sS", "http://127.0.0.1:" + stats + "/metrics").output();
            String fw = "forward=\"127.0.0.1:" + port + "\"";
            assertTrue(metrics.contains("epollproxy_tls_handshakes_total{" + fw + "} 1"), metrics);
            assertTrue(metrics.contains("epollproxy_tls_handshake_failures_total{" + fw + ",reason=\"client-cert\"} 2"), metrics);
            assertTrue(metrics.contains("epollproxy_connections_closed_total{" + fw + ",proto=\"tcp\",reason=\"tls-handshake\"} 2"), metrics);
            assertTrue(metrics.contains("epollproxy_tls_handshake_seconds_count{" + fw + "} 1"), metrics);
            // an open connection shows its client's certificate in /connections
            open = new ProcessBuilder(program("openssl"), "s_client", "-connect", "127.0.0.1:" + port, "-servername", "srv.example",
                    "-cert", "alice.crt", "-key", "alice.key", "-quiet").directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            long end = System.nanoTime() + 30_000_000_000L;
            String conns;
            do {
                conns = run(dir, program("curl"), "-sS", "http://127.0.0.1:" + stats + "/connections").output();
                if (System.nanoTime() > end) throw new AssertionError("no TLS connection in /connections: " + conns);
            } while (!conns.contains("\"client_subject\": \"CN=alice\""));
            assertTrue(conns.contains("\"tls\": \"TLSv1.3 TLS_AES_128_GCM_SHA256\""), conns);
        } finally {
            RouteIT.stop(open);
        }
    }

    @Test
    void plaintextClientsCutHandshakesAndStalledClientsEachEndWithTheirReason() throws Exception {
        Path dir = certs;
        int port = plaintextPort;
        JarProcess p = shortTimeout;
        // The client that stalls first: its 3 s run while the other two are refused.
        try (Socket stalled = ConfigReloadIT.connect(port)) {
            stalled.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00}); // a hello's first bytes and nothing more
            try (Socket s = ConfigReloadIT.connect(port)) {
                s.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                drain(s.getInputStream()); // the proxy closes; it never answers in plain text
            }
            awaitLine(p, port, "end=tls-handshake why=\"not TLS (a plaintext client?)");
            try (Socket s = ConfigReloadIT.connect(port)) {
                s.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00}); // a hello's first bytes, then FIN
                s.shutdownOutput();
                drain(s.getInputStream());
            }
            awaitLine(p, port, "end=tls-handshake why=\"the client closed during the handshake\"");
            stalled.setSoTimeout(30_000);
            drain(stalled.getInputStream()); // closed at the deadline
        }
        awaitLine(p, port, "end=tls-handshake why=\"no complete handshake within 3000 ms\"");
        RouteIT.Result ok = curlUnderTheShortTimeout(dir, port);
        assertEquals(0, ok.status(), "the port still serves: " + ok.output());
    }

    @Test
    void aThousandHalfOpenHandshakesEachEndAndAreCountedWhileHealthzAnswers() throws Exception {
        Path dir = certs;
        int port = halfOpenPort;
        java.util.List<Socket> held = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 1000; i++) {
                Socket s = new Socket("127.0.0.1", port);
                s.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01}); // a hello's start, never finished
                held.add(s);
            }
            // the loop still answers while they wait (no timing asserted: it answers at all, within curl's 30 s)
            RouteIT.Result health = run(dir, program("curl"), "-sS", "--max-time", "30", "http://127.0.0.1:" + shortTimeoutStats + "/healthz");
            assertEquals(0, health.status(), health.output());
            String fw = "forward=\"127.0.0.1:" + port + "\"";
            String want = "epollproxy_tls_handshake_failures_total{" + fw + ",reason=\"timeout\"} 1000";
            long end = System.nanoTime() + 120_000_000_000L;
            String metrics;
            while (true) {
                metrics = get("http://127.0.0.1:" + shortTimeoutStats + "/metrics");
                if (metrics.contains(want) && metrics.contains("epollproxy_connections_closed_total{" + fw + ",proto=\"tcp\",reason=\"tls-handshake\"} 1000")) {
                    break;
                }
                if (System.nanoTime() > end) throw new AssertionError("not all 1000 ended in 120 s:\n" + metrics);
                Thread.sleep(100); // not back to back for the 3 s the timeouts take
            }
            // (both counters are waited for: the TLS failures and the loops' ended connections are counted apart,
            // and a scrape may come between the two)
            for (Socket s : held) { // each was closed by the proxy
                s.setSoTimeout(30_000);
                drain(s.getInputStream());
            }
            RouteIT.Result ok = curlUnderTheShortTimeout(dir, port);
            assertEquals("plain backend\n", ok.output());
        } finally {
            for (Socket s : held) s.close();
        }
    }

    @Test
    void aForgedRecordAfterTheHandshakeEndsTheConnectionAsTlsError() throws Exception {
        Path dir = certs;
        int port = forgedPort;
        java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (InputStream in = java.nio.file.Files.newInputStream(dir.resolve("srv.example.crt"))) {
            trust.setCertificateEntry("srv", java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance("PKIX");
        tmf.init(trust);
        javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        try (Socket raw = ConfigReloadIT.connect(port)) {
            javax.net.ssl.SSLSocket tls = (javax.net.ssl.SSLSocket) ctx.getSocketFactory().createSocket(raw, "srv.example", port, false);
            tls.startHandshake();
            // an application-data record the client's keys never made: the proxy's engine must refuse it
            byte[] forged = new byte[5 + 40];
            forged[0] = 0x17;
            forged[1] = 0x03;
            forged[2] = 0x03;
            forged[4] = 40;
            raw.getOutputStream().write(forged);
            drain(raw.getInputStream());
        }
        awaitLine(shared, port, "end=tls-error why=");
    }

    @Test
    void badTlsOptionsAreUsageErrorsOfOneLine() throws Exception {
        Path dir = certs;
        String crt = dir.resolve("srv.example.crt").toString();
        String key = dir.resolve("srv.example.key").toString();
        String[][] cases = {
            {"--tls-cert 9:" + crt, "--tls-cert 9:" + crt + ": expected [BIND:]PORT:CERT.pem:KEY.pem"},
            {"--tls-cert 7:" + crt + ":" + key, "--tls-cert 7: no TCP listener (-L or config line) on 7"},
            {"--tls-cert 9:" + key + ":" + key, "no '-----BEGIN CERTIFICATE-----' block"},
            {"--tls-cert 9:" + crt + ":" + crt, "no '-----BEGIN PRIVATE KEY-----' block"},
            {"--tls-alpn 9:h2", "--tls-alpn and --tls-client-ca need a --tls-cert for the same port"},
            {"--tls-cert 9:" + crt + ":" + key + " --buffer-size 8k --preread-max 4k", "--tls-cert needs --buffer-size 17k or more"},
            {"--tls-cert 9:" + crt + ":" + key + " --tls-handshake-timeout soon", "--tls-handshake-timeout: "},
            {"--backend-ca 9:" + crt, "--backend-ca and --backend-cert need a --backend-tls for the same port"},
        };
        // Independent processes: started together, the test waits for about one JVM start instead of one per case.
        // C1 only, with the later compile thresholds, as JarProcess runs the jar when it does no TLS: these stop
        // before any handshake.
        java.util.List<JarProcess> started = new java.util.ArrayList<>();
        try {
            for (String[] c : cases) {
                java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("-L", "9:127.0.0.1:1"));
                args.addAll(java.util.List.of(c[0].split(" ")));
                started.add(new JarProcess(java.util.List.of("-XX:TieredStopAtLevel=1", "-XX:CompileThresholdScaling=4"), args.toArray(new String[0])));
            }
            for (int i = 0; i < cases.length; i++) {
                JarProcess p = started.get(i);
                String[] c = cases[i];
                assertEquals(2, p.exitCode(60), c[0] + ": " + p.stderr());
                assertTrue(p.stderr().contains(c[1]), c[0] + ": " + p.stderr());
                assertTrue(!p.stderr().contains("\tat "), "no stack trace: " + p.stderr());
            }
        } finally {
            for (JarProcess p : started) p.close();
        }
    }
}
