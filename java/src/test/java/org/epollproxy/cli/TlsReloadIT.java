package org.epollproxy.cli;

import static org.epollproxy.cli.RouteIT.program;
import static org.epollproxy.cli.RouteIT.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.epollproxy.Ports;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operational side of TLS termination, through the real jar and openssl: a SIGHUP that re-reads the
 * certificates keeps the listener's counters, sessions and listening line, serves a new certificate to new
 * clients while an open connection carries on, and keeps the old certificate, with a one-line reason, when the
 * new key is broken; resumed handshakes (TLS 1.2 and 1.3) are counted; a client whose engine cannot be made
 * still ends with a log line and a metric.
 */
class TlsReloadIT {

    private static void certificate(Path dir, String org) throws Exception {
        assertEquals(0, run(dir, program("openssl"), "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "srv.key", "-out", "srv.crt", "-days", "2", "-subj", "/O=" + org + "/CN=srv.example", "-addext",
                "subjectAltName=DNS:srv.example").status());
    }

    /** openssl s_client sending one HTTP request; returns all it printed (its "New"/"Reused" line among it). */
    static String request(Path dir, int port, String... extra) throws Exception {
        return requestAs(dir, port, "srv.example", extra);
    }

    /** {@link #request} asking for {@code serverName}. */
    static String requestAs(Path dir, int port, String serverName, String... extra) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of(program("openssl"), "s_client", "-connect", "127.0.0.1:" + port,
                "-servername", serverName, "-ign_eof"));
        cmd.addAll(List.of(extra));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        try {
            p.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            assertTrue(out.contains("plain backend"), out);
            return out;
        } finally {
            RouteIT.stop(p);
        }
    }

    /** Waits (90 s at most) until /metrics has the sample {@code sample} (name and labels, then a blank, then the value). */
    static String awaitMetric(String statsLine, String sample) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (true) {
            String m = BalanceIT.get(statsLine, "/metrics");
            if (m.contains("\n" + sample + "\n")) return m;
            if (System.nanoTime() > end) throw new AssertionError("no '" + sample + "' in /metrics within 90 s:\n" + m);
            Thread.sleep(50);
        }
    }

    /** The next stdout line, waiting up to 90 s: a JVM start on a saturated machine can take longer than JarProcess's 15. */
    static String line(JarProcess p) throws InterruptedException {
        String l = p.stdout.poll(90, TimeUnit.SECONDS);
        if (l == null) throw new AssertionError("no stdout line within 90 s; stderr:\n" + p.stderr());
        return l;
    }

    /** Waits up to 90 s until stderr holds {@code text} (reloads run on their own thread; the machine may be busy). */
    static void awaitErr(JarProcess p, String text) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (!p.stderr().contains(text)) {
            if (System.nanoTime() > end) throw new AssertionError("no '" + text + "' on stderr within 90 s:\n" + p.stderr());
            Thread.sleep(20);
        }
    }

    /** The value of the sample {@code name} (with its labels) in a /metrics page. */
    static long sample(String metrics, String name) {
        for (String line : metrics.split("\n")) if (line.startsWith(name + " ")) return Long.parseLong(line.substring(name.length() + 1).trim());
        throw new AssertionError("no " + name + " in\n" + metrics);
    }

    private static int count(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) n++;
        return n;
    }

    @Test
    void aConfigReloadKeepsCountersAndListeningLineServesTheNewCertificateAndABrokenKeyKeepsTheOld(@TempDir Path dir) throws Exception {
        certificate(dir, "first");
        int port = Ports.free();
        HttpServer http = TlsIT.httpBackend();
        Path conf = dir.resolve("proxy.conf");
        Files.writeString(conf, String.join("\n", "127.0.0.1 " + port + " 127.0.0.1 " + http.getAddress().getPort(),
                "tls-cert 127.0.0.1 " + port + " " + dir.resolve("srv.crt") + " " + dir.resolve("srv.key"), ""));
        String fw = "forward=\"127.0.0.1:" + port + "\"";
        Process open = null;
        try (JarProcess p = new JarProcess(List.of(TlsIT.LATE_JIT), "--config", conf.toString(), "--stats", "0")) {
            assertTrue(line(p).startsWith("listening tcp 127.0.0.1:" + port + " tls(1 cert)"));
            String stats = line(p);
            assertEquals("subject=O=first,CN=srv.example", RouteIT.subjectVia(dir, port, "srv.example"));
            // a connection open across the reloads: it keeps its session and goes on
            open = new ProcessBuilder(program("openssl"), "s_client", "-connect", "127.0.0.1:" + port, "-servername", "srv.example", "-quiet")
                    .directory(dir.toFile()).redirectErrorStream(true).start();
            awaitMetric(stats, "epollproxy_tls_handshakes_total{" + fw + "} 2");

            certificate(dir, "second");
            p.signal("HUP");
            awaitErr(p, "reload: tls: reloaded certificate for 127.0.0.1:" + port + ": CN=srv.example,O=second, not after 20");
            awaitErr(p, conf + ": 0 added, 0 removed, 0 changed, 1 unchanged");
            assertEquals("subject=O=second,CN=srv.example", RouteIT.subjectVia(dir, port, "srv.example"));
            awaitMetric(stats, "epollproxy_tls_handshakes_total{" + fw + "} 3"); // counted before the reload, and after

            Files.writeString(dir.resolve("srv.key"), "not a key\n");
            p.signal("HUP");
            awaitErr(p, "keeping the running configuration");
            String bad = dir.resolve("srv.key") + ": no '-----BEGIN PRIVATE KEY-----' block (nor RSA or EC PRIVATE KEY); keeping the running configuration";
            assertEquals(1, count(p.stderr(), bad), p.stderr());
            assertEquals("subject=O=second,CN=srv.example", RouteIT.subjectVia(dir, port, "srv.example"));

            OutputStream toOpen = open.getOutputStream();
            toOpen.write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            toOpen.flush();
            String answer = new String(open.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertTrue(answer.contains("plain backend"), "the connection opened before both reloads still works: " + answer);
            awaitMetric(stats, "epollproxy_tls_handshakes_total{" + fw + "} 4");
            assertEquals(0, count(p.stderr(), "listening tcp"), "one listening line, at start:\n" + p.stderr());
            assertEquals(1, count(p.stderr(), "reloaded certificate"), p.stderr());

            // a changed setup (ALPN now): announced again with its new TLS, and the counters carry on
            certificate(dir, "third");
            Files.writeString(conf, String.join("\n", "127.0.0.1 " + port + " 127.0.0.1 " + http.getAddress().getPort(),
                    "tls-cert 127.0.0.1 " + port + " " + dir.resolve("srv.crt") + " " + dir.resolve("srv.key"),
                    "tls-alpn 127.0.0.1 " + port + " http/1.1", ""));
            p.signal("HUP");
            awaitErr(p, "reload: listening tcp 127.0.0.1:" + port + " tls(1 cert, alpn http/1.1) -> ");
            assertEquals("subject=O=third,CN=srv.example", RouteIT.subjectVia(dir, port, "srv.example"));
            awaitMetric(stats, "epollproxy_tls_handshakes_total{" + fw + "} 5");
        } finally {
            RouteIT.stop(open);
            http.stop(0);
        }
    }

    @Test
    void resumedHandshakesOfTls12AndTls13AreCountedAndSessionsOutliveAReload(@TempDir Path dir) throws Exception {
        certificate(dir, "first");
        int port = Ports.free();
        HttpServer http = TlsIT.httpBackend();
        String fw = "forward=\"127.0.0.1:" + port + "\"";
        try (JarProcess p = new JarProcess(List.of(TlsIT.LATE_JIT), "-L", port + ":127.0.0.1:" + http.getAddress().getPort(),
                "--tls-cert", port + ":" + dir.resolve("srv.crt") + ":" + dir.resolve("srv.key"), "--stats", "0")) {
            line(p);
            String stats = line(p);
            for (String v : List.of("-tls1_2", "-tls1_3")) {
                Path sess = dir.resolve("session" + v);
                assertTrue(request(dir, port, v, "-sess_out", sess.toString()).contains("\nNew, "), v);
                assertTrue(request(dir, port, v, "-sess_in", sess.toString()).contains("\nReused, "), v);
            }
            String m = awaitMetric(stats, "epollproxy_tls_handshakes_total{" + fw + "} 4");
            assertTrue(m.contains("\nepollproxy_tls_handshakes_resumed_total{" + fw + "} 2\n"), m);
            assertTrue(m.contains("\nepollproxy_tls_handshake_seconds_count{" + fw + "} 4\n"), m);
            // the bytes of the application (4 requests of 18 bytes in) and of the TLS records around them
            m = awaitMetric(stats, "epollproxy_tls_bytes_total{" + fw + ",layer=\"plain\",direction=\"in\"} 72");
            long wireIn = sample(m, "epollproxy_tls_bytes_total{" + fw + ",layer=\"wire\",direction=\"in\"}");
            long wireOut = sample(m, "epollproxy_tls_bytes_total{" + fw + ",layer=\"wire\",direction=\"out\"}");
            long plainOut = sample(m, "epollproxy_tls_bytes_total{" + fw + ",layer=\"plain\",direction=\"out\"}");
            assertTrue(wireIn > 72 && plainOut >= 4 * "plain backend\n".length() && wireOut > plainOut, m);

            // a reload that changes nothing keeps the session cache: the TLS 1.3 session still resumes
            p.signal("HUP");
            awaitErr(p, "reload: tls: " + port + ": certificates read again, unchanged");
            assertTrue(request(dir, port, "-tls1_3", "-sess_in", dir.resolve("session-tls1_3").toString()).contains("\nReused, "));
            // a new certificate: before JDK 25 the ticket carries the certificate and the session resumes; from
            // JDK 25 on it names it by checksum (JDK-8357033), and a session of a certificate no longer served
            // gets a full handshake with the new one (as TlsServerTest checks in memory)
            certificate(dir, "second");
            p.signal("HUP");
            awaitErr(p, "reload: tls: reloaded certificate for " + port + ": CN=srv.example,O=second");
            String old = request(dir, port, "-tls1_2", "-sess_in", dir.resolve("session-tls1_2").toString());
            boolean jdk25 = Runtime.version().feature() >= 25; // the jar runs on the JDK running the test
            assertTrue(old.contains(jdk25 ? "\nNew, " : "\nReused, "), old);
            if (jdk25) assertTrue(old.contains("subject=O = second"), old);
            assertTrue(request(dir, port, "-tls1_3").contains("subject=O = second"));
            m = awaitMetric(stats, "epollproxy_tls_handshakes_total{" + fw + "} 7");
            assertTrue(m.contains("\nepollproxy_tls_handshakes_resumed_total{" + fw + "} " + (jdk25 ? 3 : 4) + "\n"), m);

            // a plaintext client: a failure by reason, and a connection ended as tls-handshake
            try (Socket s = new Socket("127.0.0.1", port)) {
                s.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                s.setSoTimeout(30_000);
                TlsIT.drain(s.getInputStream());
            }
            m = awaitMetric(stats, "epollproxy_tls_handshake_failures_total{" + fw + ",reason=\"not-tls\"} 1");
            assertTrue(m.contains("epollproxy_connections_closed_total{forward=\"127.0.0.1:" + port + "\",proto=\"tcp\",reason=\"tls-handshake\"} 1\n"), m);
        } finally {
            http.stop(0);
        }
    }

    @Test
    void aClientWhoseEngineCannotBeMadeEndsWithALogLineAndAMetric(@TempDir Path dir) throws Exception {
        certificate(dir, "first");
        // A security policy that disables both versions the listener offers: no engine can start a handshake.
        Path policy = dir.resolve("java.security");
        Files.writeString(policy, "jdk.tls.disabledAlgorithms=TLSv1.3, TLSv1.2, SSLv3\n");
        int port = Ports.free();
        HttpServer http = TlsIT.httpBackend();
        String fw = "forward=\"127.0.0.1:" + port + "\"";
        try (JarProcess p = new JarProcess(List.of("-Djava.security.properties=" + policy, TlsIT.LATE_JIT), "-L", port + ":127.0.0.1:" + http.getAddress().getPort(),
                "--tls-cert", port + ":" + dir.resolve("srv.crt") + ":" + dir.resolve("srv.key"), "--stats", "0")) {
            line(p);
            String stats = line(p);
            for (int i = 0; i < 2; i++) { // the listener goes on after the first
                try (Socket s = new Socket("127.0.0.1", port)) {
                    s.setSoTimeout(30_000);
                    TlsIT.drain(s.getInputStream());
                }
            }
            awaitErr(p, "end=tls-handshake why=\"TLS setup failed: ");
            String m = awaitMetric(stats, "epollproxy_tls_handshake_failures_total{" + fw + ",reason=\"setup\"} 2");
            assertTrue(m.contains("epollproxy_connections_closed_total{forward=\"127.0.0.1:" + port + "\",proto=\"tcp\",reason=\"tls-handshake\"} 2\n"), m);
            assertEquals(2, count(p.stderr(), "end=tls-handshake"), p.stderr());
        } finally {
            http.stop(0);
        }
    }
}
