package org.epollproxy.cli;

import static org.epollproxy.cli.RouteIT.program;
import static org.epollproxy.cli.RouteIT.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.epollproxy.Ports;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS through the real jar with real clients and servers: curl and openssl s_client against two certificates
 * chosen by SNI (RSA with a PKCS#1 key file, ECDSA with a SEC 1 key file) in front of a plain HTTP server,
 * redis-cli --tls in front of a plain redis-server, haproxy as a verifying client, routes that pass some names
 * through, a plain client in front of a TLS-only server (openssl s_server), and /metrics of such forwards
 * (handshakes done, failed by reason: a wrong name is a certificate failure, their latency, the bytes on both
 * layers), and new certificates on SIGHUP, from options and from a config file's TLS lines. What a TLS port
 * refuses (bad clients, client certificates, bad options) is {@link TlsRefusalsIT}, so that the two run side
 * by side; PROXY v2's TLS facts are {@link TlsProxyHeaderIT}'s.
 *
 * <p>The tests that need only listeners share one proxy (one start of a C2 JVM instead of five), a listener
 * or two of its own for each, and the certificates made once for the class; the two that send SIGHUP start
 * their own. A test waits for log lines of its own listener ({@link #awaitLine}) and reads metrics labelled
 * with its own forward, never what another test's listener may have written.
 */
class TlsIT {

    /**
     * The certificates of the class, made once: rsa.example and ec.example (PKCS#8 keys; rsa1.key is PKCS#1,
     * ec1.key SEC 1), srv.example, site.example, pass.example, tls-only.example.
     */
    @TempDir
    static Path certs;

    static HttpServer http;
    static JarProcess shared;
    /** The shared proxy's stdout: one listening line per forward. */
    static final List<String> listening = new ArrayList<>();
    static int sniPort, redisTls, redisPort, haproxyPort, routedPort, passServer, tlsOnlyServer, good, wrongName, noCa;
    static int metricsServer, metricsGood, metricsWrongName;
    /** The shared proxy's stats listening line (--stats 0: the port it got). */
    static String stats;

    @BeforeAll
    static void sharedProxy() throws Exception {
        Path dir = certs;
        certificate(dir, "rsa.example", true);
        certificate(dir, "ec.example", false);
        // the older key formats, as many existing files are: PKCS#1 RSA and SEC 1 EC
        assertEquals(0, run(dir, program("openssl"), "rsa", "-in", "rsa.example.key", "-traditional", "-out", "rsa1.key").status());
        assertEquals(0, run(dir, program("openssl"), "ec", "-in", "ec.example.key", "-out", "ec1.key").status());
        for (String name : List.of("srv.example", "site.example", "pass.example", "tls-only.example")) certificate(dir, name, false);
        http = httpBackend();
        String backend = "127.0.0.1:" + http.getAddress().getPort();
        sniPort = Ports.free();
        redisTls = Ports.free();
        redisPort = Ports.free();
        haproxyPort = Ports.free();
        routedPort = Ports.free();
        passServer = Ports.free();
        tlsOnlyServer = Ports.free();
        good = Ports.free();
        wrongName = Ports.free();
        noCa = Ports.free();
        metricsServer = Ports.free();
        metricsGood = Ports.free();
        metricsWrongName = Ports.free();
        String ca = dir.resolve("tls-only.example.crt").toString();
        String[] args = {
            "-L", sniPort + ":" + backend,
            "--tls-cert", sniPort + ":" + dir.resolve("rsa.example.crt") + ":" + dir.resolve("rsa1.key"),
            "--tls-cert", sniPort + ":" + dir.resolve("ec.example.crt") + ":" + dir.resolve("ec1.key"),
            "--tls-alpn", sniPort + ":http/1.1",
            "-L", redisTls + ":127.0.0.1:" + redisPort,
            "--tls-cert", redisTls + ":" + dir.resolve("ec.example.crt") + ":" + dir.resolve("ec.example.key"),
            "-L", haproxyPort + ":" + backend,
            "--tls-cert", haproxyPort + ":" + dir.resolve("srv.example.crt") + ":" + dir.resolve("srv.example.key"),
            "-L", routedPort + ":" + backend,
            "--tls-cert", routedPort + ":" + dir.resolve("site.example.crt") + ":" + dir.resolve("site.example.key"),
            "--route", routedPort + ":sni:pass.example=127.0.0.1:" + passServer,
            "-L", good + ":127.0.0.1:" + tlsOnlyServer, "--backend-tls", good + ":tls-only.example", "--backend-ca", good + ":" + ca,
            "-L", wrongName + ":127.0.0.1:" + tlsOnlyServer, "--backend-tls", wrongName + ":other.example", "--backend-ca", wrongName + ":" + ca,
            "-L", noCa + ":127.0.0.1:" + tlsOnlyServer, "--backend-tls", Integer.toString(noCa),
            "-L", metricsGood + ":127.0.0.1:" + metricsServer, "--backend-tls", metricsGood + ":tls-only.example",
            "--backend-ca", metricsGood + ":" + ca,
            "-L", metricsWrongName + ":127.0.0.1:" + metricsServer, "--backend-tls", metricsWrongName + ":other.example",
            "--backend-ca", metricsWrongName + ":" + ca,
            "--stats", "0", "--connect-timeout", "60s", // the backend handshake is in the connect: a cold JVM on a busy machine
        };
        shared = new JarProcess(List.of(LATE_JIT), args);
        for (String a : args) if (a.equals("-L")) listening.add(TlsReloadIT.line(shared));
        stats = TlsReloadIT.line(shared);
    }

    @AfterAll
    static void stopSharedProxy() {
        if (shared != null) shared.close();
        if (http != null) http.stop(0);
    }

    /**
     * A JVM flag for the proxies of the TLS tests: C2 stays (JarProcess keeps it where the proxy does TLS, for the
     * AES-GCM intrinsics production runs on), but a method is compiled after 4 times the invocations and loops,
     * as in JarProcess's C1 starts: a test's few handshakes never make TLS code hot, and compiling the code that
     * runs at start and once per handshake was a quarter of such a process's CPU (here, a start and six
     * handshakes: 1.3 CPU-seconds instead of 1.75). Not for a proxy whose handshake timeout is short: its first
     * handshake, interpreted for longer, may miss it on a loaded machine (docs/testing.md).
     */
    static final String LATE_JIT = "-XX:CompileThresholdScaling=4";

    /**
     * Waits (60 s at most) for a connection's log line from the listener on {@code port} that holds {@code text}:
     * on a proxy the tests share, a line another test's listener wrote must not do.
     */
    static void awaitLine(JarProcess p, int port, String text) throws InterruptedException {
        String listen = " listen=127.0.0.1:" + port + " ";
        p.awaitStderrLine("line of" + listen + "with '" + text + "'", line -> line.contains(listen) && line.contains(text), 60);
    }

    /** A self-signed certificate for {@code name} (rsa or ec): NAME.crt and NAME.key (PKCS#8) in {@code dir}. */
    static void certificate(Path dir, String name, boolean rsa) throws Exception {
        RouteIT.Result r = rsa
                ? run(dir, program("openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".crt",
                        "-days", "2", "-subj", "/CN=" + name, "-addext", "subjectAltName=DNS:" + name)
                : run(dir, program("openssl"), "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                        "-keyout", name + ".key", "-out", name + ".crt", "-days", "2", "-subj", "/CN=" + name, "-addext", "subjectAltName=DNS:" + name);
        assertEquals(0, r.status(), r.output());
    }

    static HttpServer httpBackend() throws Exception {
        HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 50);
        http.createContext("/", ex -> {
            byte[] body = "plain backend\n".getBytes(StandardCharsets.US_ASCII);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        http.start();
        return http;
    }

    static RouteIT.Result curl(Path dir, String name, int port, String... extra) throws Exception {
        String[] base = {program("curl"), "-sS", "--max-time", "30", "--resolve", name + ":" + port + ":127.0.0.1", "--cacert", name + ".crt"};
        String[] cmd = java.util.Arrays.copyOf(base, base.length + extra.length + 1);
        System.arraycopy(extra, 0, cmd, base.length, extra.length);
        cmd[cmd.length - 1] = "https://" + name + ":" + port + "/";
        return run(dir, cmd);
    }


    @Test
    void curlOpensslAndRedisCliTalkTlsToPlainServicesEachNameGetsItsCertificate() throws Exception {
        Path dir = certs;
        int port = sniPort;
        assertTrue(listening.contains("listening tcp 127.0.0.1:" + port + " tls(2 certs, alpn http/1.1) -> 127.0.0.1:" + http.getAddress().getPort()),
                listening.toString());
        Process redis = new ProcessBuilder(program("redis-server"), "--port", Integer.toString(redisPort), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            RouteIT.awaitListening(redisPort, redis);
            RouteIT.Result a = curl(dir, "rsa.example", port);
            assertEquals(0, a.status(), a.output());
            assertEquals("plain backend\n", a.output());
            RouteIT.Result b = curl(dir, "ec.example", port, "--tls-max", "1.2");
            assertEquals(0, b.status(), "TLS 1.2 with the ECDSA certificate: " + b.output());
            assertEquals("subject=CN=rsa.example", RouteIT.subjectVia(dir, port, "rsa.example"));
            assertEquals("subject=CN=ec.example", RouteIT.subjectVia(dir, port, "ec.example"));
            assertEquals("subject=CN=rsa.example", RouteIT.subjectVia(dir, port, "unknown.example"), "no certificate for the name: the first");
            // a session made with the certificate of its name resumes, not only one made with the default (on
            // JDK 25 the ticket's certificate is checked against the one the name chooses: TlsServer.nameAsked)
            for (String v : java.util.List.of("-tls1_2", "-tls1_3")) {
                Path sess = dir.resolve("ec-session" + v);
                String made = TlsReloadIT.requestAs(dir, port, "ec.example", v, "-sess_out", sess.toString());
                assertTrue(made.contains("\nNew, ") && made.contains("subject=CN = ec.example"), made);
                String again = TlsReloadIT.requestAs(dir, port, "ec.example", v, "-sess_in", sess.toString());
                assertTrue(again.contains("\nReused, "), v + ": " + again);
            }
            awaitLine(shared, port, "tls=\"TLSv1.3 TLS_AES_128_GCM_SHA256 alpn=http/1.1\"");
            awaitLine(shared, port, "tls=\"TLSv1.2 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 alpn=http/1.1\"");

            String cli = program("redis-cli");
            RouteIT.Result set = run(dir, cli, "--tls", "--cacert", "ec.example.crt", "--sni", "ec.example", "-p", Integer.toString(redisTls),
                    "SET", "k", "through tls");
            assertEquals("OK", set.output().trim());
            RouteIT.Result get = run(dir, cli, "--tls", "--cacert", "ec.example.crt", "--sni", "ec.example", "-p", Integer.toString(redisTls), "GET", "k");
            assertEquals("through tls", get.output().trim());
            awaitLine(shared, redisTls, "why=\"the client closed without close_notify (truncated TLS stream)\""); // redis-cli just closes
        } finally {
            RouteIT.stop(redis);
        }
    }

    @Test
    void aPlainClientReachesATlsOnlyServerAndAWrongNameOrUnknownCaIsRefused() throws Exception {
        Path dir = certs;
        int server = tlsOnlyServer;
        Process s = new ProcessBuilder(program("openssl"), "s_server", "-accept", Integer.toString(server), "-naccept", "1000",
                "-cert", "tls-only.example.crt", "-key", "tls-only.example.key", "-www", "-quiet")
                .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            assertTrue(listening.contains("listening tcp 127.0.0.1:" + good + " -> 127.0.0.1:" + server + " backend-tls(tls-only.example)"),
                    listening.toString());
            RouteIT.awaitListening(server, s);
            RouteIT.Result r = run(dir, program("curl"), "-sS", "--max-time", "30", "http://127.0.0.1:" + good + "/");
            assertEquals(0, r.status(), r.output());
            assertTrue(r.output().contains("s_server"), "plain HTTP in, the TLS server's page out: " + r.output());
            awaitLine(shared, good, "end=backend-closed tls=\"backend TLSv1.3");
            assertTrue(run(dir, program("curl"), "-sS", "--max-time", "30", "http://127.0.0.1:" + wrongName + "/").status() != 0);
            awaitLine(shared, wrongName, "end=backend-tls why=\"" + alert("certificate_unknown") + "No subject alternative DNS name matching other.example");
            assertTrue(run(dir, program("curl"), "-sS", "--max-time", "30", "http://127.0.0.1:" + noCa + "/").status() != 0);
            awaitLine(shared, noCa, "end=backend-tls why=\"" + alert("certificate_unknown") + "PKIX path building failed");
        } finally {
            RouteIT.stop(s);
        }
    }

    @Test
    void sighupLoadsNewCertificatesForNewClientsAndKeepsTheOldOnesIfTheNewFilesAreBad(@TempDir Path dir) throws Exception {
        String openssl = program("openssl"); // a certificate of its own: the test rewrites its files
        assertEquals(0, run(dir, openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "srv.key",
                "-out", "srv.crt", "-days", "2", "-subj", "/O=first/CN=srv.example", "-addext", "subjectAltName=DNS:srv.example").status());
        int port = Ports.free();
        Process open = null;
        try (JarProcess p = new JarProcess(List.of(LATE_JIT), "-L", port + ":127.0.0.1:" + http.getAddress().getPort(),
                "--tls-cert", port + ":" + dir.resolve("srv.crt") + ":" + dir.resolve("srv.key"))) {
            p.nextLine();
            assertEquals("subject=O=first,CN=srv.example", RouteIT.subjectVia(dir, port, "srv.example"));
            // a connection open across the reloads: it keeps working on the session it has
            open = new ProcessBuilder(openssl, "s_client", "-connect", "127.0.0.1:" + port, "-servername", "srv.example", "-quiet")
                    .directory(dir.toFile()).redirectErrorStream(true).start();
            OutputStream toOpen = open.getOutputStream();
            assertEquals(0, run(dir, openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "srv.key",
                    "-out", "srv.crt", "-days", "2", "-subj", "/O=second/CN=srv.example", "-addext", "subjectAltName=DNS:srv.example").status());
            p.signal("HUP");
            TlsReloadIT.awaitErr(p, "reload: tls: reloaded certificate for " + port + ": CN=srv.example,O=second, not after ");
            assertEquals("subject=O=second,CN=srv.example", RouteIT.subjectVia(dir, port, "srv.example"));
            java.nio.file.Files.writeString(dir.resolve("srv.key"), "not a key\n");
            p.signal("HUP");
            TlsReloadIT.awaitErr(p, "no '-----BEGIN PRIVATE KEY-----' block (nor RSA or EC PRIVATE KEY); keeping the certificates loaded before");
            assertEquals("subject=O=second,CN=srv.example", RouteIT.subjectVia(dir, port, "srv.example"));
            toOpen.write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            toOpen.flush();
            String answer = new String(open.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertTrue(answer.contains("plain backend"), "the connection opened before both reloads still works: " + answer);
        } finally {
            RouteIT.stop(open);
        }
    }

    @Test
    void withRoutesTheRoutedNamesPassThroughAndTheDefaultRouteIsTerminated() throws Exception {
        Path dir = certs;
        int port = routedPort;
        Process pass = RouteIT.tlsServer(dir, "pass.example", passServer);
        try {
            assertEquals("subject=CN=pass.example", RouteIT.subjectVia(dir, port, "pass.example"), "passed through to its own server");
            assertEquals("subject=CN=site.example", RouteIT.subjectVia(dir, port, "site.example"), "terminated here");
            RouteIT.Result r = curl(dir, "site.example", port);
            assertEquals("plain backend\n", r.output());
            RouteIT.Result through = curl(dir, "pass.example", port);
            assertTrue(through.output().contains("s_server"), through.output());
            awaitLine(shared, port, "route=default sni=\"site.example\" alpn=\"h2,http/1.1\" tls=\"TLSv1.3");
            // plain HTTP on the TLS listener: its default route terminates TLS, so it never reaches the backend in the clear
            RouteIT.Result plain = run(dir, program("curl"), "-sS", "--max-time", "30", "http://127.0.0.1:" + port + "/");
            assertTrue(plain.status() != 0 && !plain.output().contains("plain backend"), plain.output());
            awaitLine(shared, port, "end=tls-handshake why=\"not TLS (a plaintext client?): its first bytes were http, and no route takes that\"");
        } finally {
            RouteIT.stop(pass);
        }
    }

    @Test
    void configFileTlsLinesTerminateAndSighupReadsThemAgain(@TempDir Path dir) throws Exception {
        int port = Ports.free();
        int backend = http.getAddress().getPort();
        Path conf = dir.resolve("proxy.conf");
        java.nio.file.Files.writeString(conf, String.join("\n",
                "127.0.0.1 " + port + " 127.0.0.1 " + backend,
                "tls-cert 127.0.0.1 " + port + " " + certs.resolve("ec.example.crt") + " " + certs.resolve("ec.example.key") + "  # the default",
                "tls-alpn 127.0.0.1 " + port + " http/1.1", ""));
        try (JarProcess p = new JarProcess(List.of(LATE_JIT), "--config", conf.toString())) {
            assertEquals("listening tcp 127.0.0.1:" + port + " tls(1 cert, alpn http/1.1) -> 127.0.0.1:" + backend, p.nextLine());
            assertEquals("plain backend\n", curl(certs, "ec.example", port).output());
            java.nio.file.Files.writeString(conf, String.join("\n",
                    "127.0.0.1 " + port + " 127.0.0.1 " + backend,
                    "tls-cert 127.0.0.1 " + port + " " + certs.resolve("rsa.example.crt") + " " + certs.resolve("rsa.example.key"), ""));
            p.signal("HUP");
            ConfigReloadIT.awaitErr(p, "reload: listening tcp 127.0.0.1:" + port + " tls(1 cert) -> ");
            assertEquals("subject=CN=rsa.example", RouteIT.subjectVia(certs, port, "rsa.example"));
            java.nio.file.Files.writeString(conf, String.join("\n",
                    "127.0.0.1 " + port + " 127.0.0.1 " + backend,
                    "tls-cert 127.0.0.1 " + port + " " + dir.resolve("missing.crt") + " " + certs.resolve("rsa.example.key"), ""));
            p.signal("HUP");
            ConfigReloadIT.awaitErr(p, "missing.crt: cannot read");
            ConfigReloadIT.awaitErr(p, "keeping the running configuration");
            assertEquals("subject=CN=rsa.example", RouteIT.subjectVia(certs, port, "rsa.example"));
        }
    }

    @Test
    void haproxyVerifyingTheCertificateIsAClientOfATerminatingListener(@TempDir Path dir) throws Exception {
        String haproxy = program("haproxy");
        int port = haproxyPort;
        int front = Ports.free();
        java.nio.file.Files.writeString(dir.resolve("haproxy.cfg"), String.join("\n",
                "global", "  maxconn 100", "defaults", "  mode http", "  timeout connect 10s", "  timeout client 30s", "  timeout server 30s",
                "frontend plain", "  bind 127.0.0.1:" + front, "  default_backend viaproxy",
                "backend viaproxy",
                "  server p 127.0.0.1:" + port + " ssl verify required ca-file " + certs.resolve("srv.example.crt") + " sni str(srv.example)", ""));
        Process h = null;
        try {
            h = new ProcessBuilder(haproxy, "-db", "-f", dir.resolve("haproxy.cfg").toString()).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("haproxy.log").toFile()).start();
            RouteIT.awaitListening(front, h);
            RouteIT.Result r = run(dir, program("curl"), "-sS", "--max-time", "30", "http://127.0.0.1:" + front + "/");
            assertEquals("plain backend\n", r.output(), "haproxy log:\n" + java.nio.file.Files.readString(dir.resolve("haproxy.log")));
        } finally {
            RouteIT.stop(h);
        }
    }

    @Test
    void backendHandshakesTheirFailuresLatencyAndBytesAreCounted() throws Exception {
        Path dir = certs;
        int server = metricsServer;
        int good = metricsGood;
        int wrongName = metricsWrongName;
        JarProcess p = shared;
        Process s = new ProcessBuilder(program("openssl"), "s_server", "-accept", Integer.toString(server), "-naccept", "100",
                "-cert", "tls-only.example.crt", "-key", "tls-only.example.key", "-www", "-quiet")
                .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            RouteIT.awaitListening(server, s);
            for (int i = 0; i < 2; i++) {
                RouteIT.Result r = run(dir, program("curl"), "-sS", "--max-time", "30", "http://127.0.0.1:" + good + "/");
                assertTrue(r.output().contains("s_server"), r.output() + "\n" + p.stderr());
            }
            assertTrue(run(dir, program("curl"), "-sS", "--max-time", "30", "http://127.0.0.1:" + wrongName + "/").status() != 0);
            String fw = "forward=\"127.0.0.1:" + good + "\"";
            String m = TlsReloadIT.awaitMetric(stats, "epollproxy_backend_tls_handshakes_total{" + fw + "} 2");
            assertTrue(m.contains("\nepollproxy_backend_tls_handshake_seconds_count{" + fw + "} 2\n"), m);
            TlsReloadIT.awaitMetric(stats, "epollproxy_backend_tls_handshake_failures_total{forward=\"127.0.0.1:" + wrongName + "\",reason=\"certificate\"} 1");
            // the bytes are counted when a connection ends: both have once their end lines are out
            long end = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(90);
            while (p.stderr().split("listen=127.0.0.1:" + good + " ", -1).length < 3) {
                if (System.nanoTime() > end) throw new AssertionError("two end lines expected:\n" + p.stderr());
                Thread.sleep(20);
            }
            m = BalanceIT.get(stats, "/metrics");
            long plainIn = TlsReloadIT.sample(m, "epollproxy_backend_tls_bytes_total{" + fw + ",layer=\"plain\",direction=\"in\"}");
            long wireIn = TlsReloadIT.sample(m, "epollproxy_backend_tls_bytes_total{" + fw + ",layer=\"wire\",direction=\"in\"}");
            long plainOut = TlsReloadIT.sample(m, "epollproxy_backend_tls_bytes_total{" + fw + ",layer=\"plain\",direction=\"out\"}");
            long wireOut = TlsReloadIT.sample(m, "epollproxy_backend_tls_bytes_total{" + fw + ",layer=\"wire\",direction=\"out\"}");
            assertTrue(plainOut > 0 && wireOut > plainOut && plainIn > 0 && wireIn > plainIn, m);
            assertEquals(0, TlsReloadIT.sample(m, "epollproxy_backend_tls_handshake_failures_total{" + fw + ",reason=\"certificate\"}"), m);
        } finally {
            RouteIT.stop(s);
        }
    }

    /**
     * How the JDK running the jar begins the message of a handshake it ends with {@code description} (the
     * alert's name): JDK 25 puts the name first, in brackets ("(certificate_unknown) PKIX path ..."); JDK 17
     * gives the reason alone. The log's why= field carries the JDK's message as it is.
     */
    static String alert(String description) {
        return Runtime.version().feature() >= 25 ? "(" + description + ") " : "";
    }

    static void drain(InputStream in) throws Exception {
        byte[] b = new byte[4096];
        try {
            while (in.read(b) >= 0) {
                // until the proxy closes
            }
        } catch (java.net.SocketException e) {
            // a reset is a close too
        }
    }
}
