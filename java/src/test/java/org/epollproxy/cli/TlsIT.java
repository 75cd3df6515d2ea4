package org.epollproxy.cli;

import static org.epollproxy.cli.RouteIT.program;
import static org.epollproxy.cli.RouteIT.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.epollproxy.Ports;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS termination through the real jar with real clients: curl and openssl s_client against two certificates
 * chosen by SNI (RSA with a PKCS#1 key file, ECDSA with a SEC 1 key file) in front of a plain HTTP server,
 * redis-cli --tls in front of a plain redis-server, client certificates required (curl with and without one),
 * and the bad inputs a TLS port meets: a plaintext client, a handshake cut short, a client that stalls.
 */
class TlsIT {

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
    void curlOpensslAndRedisCliTalkTlsToPlainServicesEachNameGetsItsCertificate(@TempDir Path dir) throws Exception {
        certificate(dir, "rsa.example", true);
        certificate(dir, "ec.example", false);
        // the older key formats, as many existing files are: PKCS#1 RSA and SEC 1 EC
        assertEquals(0, run(dir, program("openssl"), "rsa", "-in", "rsa.example.key", "-traditional", "-out", "rsa1.key").status());
        assertEquals(0, run(dir, program("openssl"), "ec", "-in", "ec.example.key", "-out", "ec1.key").status());
        int port = Ports.free();
        int redisTls = Ports.free();
        int redisPort = Ports.free();
        HttpServer http = httpBackend();
        Process redis = new ProcessBuilder(program("redis-server"), "--port", Integer.toString(redisPort), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try (JarProcess p = new JarProcess("-L", port + ":127.0.0.1:" + http.getAddress().getPort(),
                "-L", redisTls + ":127.0.0.1:" + redisPort,
                "--tls-cert", port + ":" + dir.resolve("rsa.example.crt") + ":" + dir.resolve("rsa1.key"),
                "--tls-cert", port + ":" + dir.resolve("ec.example.crt") + ":" + dir.resolve("ec1.key"),
                "--tls-alpn", port + ":http/1.1",
                "--tls-cert", redisTls + ":" + dir.resolve("ec.example.crt") + ":" + dir.resolve("ec.example.key"))) {
            assertEquals("listening tcp 127.0.0.1:" + port + " tls(2 certs, alpn http/1.1) -> 127.0.0.1:" + http.getAddress().getPort(), p.nextLine());
            p.nextLine();
            RouteIT.awaitListening(redisPort, redis);
            RouteIT.Result a = curl(dir, "rsa.example", port);
            assertEquals(0, a.status(), a.output());
            assertEquals("plain backend\n", a.output());
            RouteIT.Result b = curl(dir, "ec.example", port, "--tls-max", "1.2");
            assertEquals(0, b.status(), "TLS 1.2 with the ECDSA certificate: " + b.output());
            assertEquals("subject=CN=rsa.example", RouteIT.subjectVia(dir, port, "rsa.example"));
            assertEquals("subject=CN=ec.example", RouteIT.subjectVia(dir, port, "ec.example"));
            assertEquals("subject=CN=rsa.example", RouteIT.subjectVia(dir, port, "unknown.example"), "no certificate for the name: the first");
            ConfigReloadIT.awaitErr(p, "tls=\"TLSv1.3 TLS_AES_128_GCM_SHA256 alpn=http/1.1\"");
            ConfigReloadIT.awaitErr(p, "tls=\"TLSv1.2 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 alpn=http/1.1\"");

            String cli = program("redis-cli");
            RouteIT.Result set = run(dir, cli, "--tls", "--cacert", "ec.example.crt", "--sni", "ec.example", "-p", Integer.toString(redisTls),
                    "SET", "k", "through tls");
            assertEquals("OK", set.output().trim());
            RouteIT.Result get = run(dir, cli, "--tls", "--cacert", "ec.example.crt", "--sni", "ec.example", "-p", Integer.toString(redisTls), "GET", "k");
            assertEquals("through tls", get.output().trim());
            ConfigReloadIT.awaitErr(p, "why=\"the client closed without close_notify (truncated TLS stream)\""); // redis-cli just closes
        } finally {
            http.stop(0);
            RouteIT.stop(redis);
        }
    }

    @Test
    void aRequiredClientCertificateLetsItsHolderInAndRefusesOthersInTheHandshake(@TempDir Path dir) throws Exception {
        certificate(dir, "srv.example", false);
        RouteIT.Result r = run(dir, program("openssl"), "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=test client CA");
        assertEquals(0, r.status(), r.output());
        assertEquals(0, run(dir, program("openssl"), "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "alice.key", "-out", "alice.csr", "-subj", "/CN=alice").status());
        assertEquals(0, run(dir, program("openssl"), "x509", "-req", "-in", "alice.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", "alice.crt", "-days", "2").status());
        int port = Ports.free();
        int stats = Ports.free();
        HttpServer http = httpBackend();
        Process open = null;
        try (JarProcess p = new JarProcess("-L", port + ":127.0.0.1:" + http.getAddress().getPort(),
                "--tls-cert", port + ":" + dir.resolve("srv.example.crt") + ":" + dir.resolve("srv.example.key"),
                "--tls-client-ca", port + ":" + dir.resolve("ca.crt"), "--stats", Integer.toString(stats))) {
            p.nextLine();
            RouteIT.Result with = curl(dir, "srv.example", port, "--cert", "alice.crt", "--key", "alice.key");
            assertEquals(0, with.status(), with.output());
            assertEquals("plain backend\n", with.output());
            ConfigReloadIT.awaitErr(p, "subject=CN=alice\"");
            RouteIT.Result without = curl(dir, "srv.example", port);
            assertTrue(without.status() != 0, "refused without a certificate: " + without.output());
            ConfigReloadIT.awaitErr(p, "backend=- up=0 down=0");
            ConfigReloadIT.awaitErr(p, "end=tls-handshake why=\"Empty client certificate chain\"");
            // a certificate from another CA: refused as well
            certificate(dir, "mallory", false);
            RouteIT.Result other = curl(dir, "srv.example", port, "--cert", "mallory.crt", "--key", "mallory.key");
            assertTrue(other.status() != 0, other.output());
            ConfigReloadIT.awaitErr(p, "PKIX path");
            String metrics = run(dir, program("curl"), "-sS", "http://127.0.0.1:" + stats + "/metrics").output();
            String fw = "forward=\"127.0.0.1:" + port + "\"";
            assertTrue(metrics.contains("epollproxy_tls_handshakes_total{" + fw + "} 1"), metrics);
            assertTrue(metrics.contains("epollproxy_tls_handshake_failures_total{" + fw + ",reason=\"client-cert\"} 2"), metrics);
            assertTrue(metrics.contains("reason=\"tls-handshake\"} 2"), metrics);
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
            http.stop(0);
        }
    }

    @Test
    void plaintextClientsCutHandshakesAndStalledClientsEachEndWithTheirReason(@TempDir Path dir) throws Exception {
        certificate(dir, "srv.example", false);
        int port = Ports.free();
        HttpServer http = httpBackend();
        try (JarProcess p = new JarProcess("-L", port + ":127.0.0.1:" + http.getAddress().getPort(),
                "--tls-cert", port + ":" + dir.resolve("srv.example.crt") + ":" + dir.resolve("srv.example.key"),
                "--tls-handshake-timeout", "1s")) {
            p.nextLine();
            try (Socket s = ConfigReloadIT.connect(port)) {
                s.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                drain(s.getInputStream()); // the proxy closes; it never answers in plain text
            }
            ConfigReloadIT.awaitErr(p, "end=tls-handshake why=\"not TLS (a plaintext client?)");
            try (Socket s = ConfigReloadIT.connect(port)) {
                s.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00}); // a hello's first bytes, then FIN
                s.shutdownOutput();
                drain(s.getInputStream());
            }
            ConfigReloadIT.awaitErr(p, "end=tls-handshake why=\"the client closed during the handshake\"");
            try (Socket s = ConfigReloadIT.connect(port)) {
                OutputStream o = s.getOutputStream();
                o.write(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00}); // ... and nothing more: closed at the deadline
                s.setSoTimeout(30_000);
                drain(s.getInputStream());
            }
            ConfigReloadIT.awaitErr(p, "end=tls-handshake why=\"no complete handshake within 1000 ms\"");
            RouteIT.Result ok = curl(dir, "srv.example", port);
            assertEquals(0, ok.status(), "the port still serves: " + ok.output());
        } finally {
            http.stop(0);
        }
    }

    @Test
    void aPlainClientReachesATlsOnlyServerAndAWrongNameOrUnknownCaIsRefused(@TempDir Path dir) throws Exception {
        certificate(dir, "tls-only.example", false);
        int server = Ports.free();
        int good = Ports.free();
        int wrongName = Ports.free();
        int noCa = Ports.free();
        Process s = new ProcessBuilder(program("openssl"), "s_server", "-accept", Integer.toString(server), "-naccept", "1000",
                "-cert", "tls-only.example.crt", "-key", "tls-only.example.key", "-www", "-quiet")
                .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String ca = dir.resolve("tls-only.example.crt").toString();
        try (JarProcess p = new JarProcess("-L", good + ":127.0.0.1:" + server, "--backend-tls", good + ":tls-only.example", "--backend-ca", good + ":" + ca,
                "-L", wrongName + ":127.0.0.1:" + server, "--backend-tls", wrongName + ":other.example", "--backend-ca", wrongName + ":" + ca,
                "-L", noCa + ":127.0.0.1:" + server, "--backend-tls", Integer.toString(noCa))) {
            assertEquals("listening tcp 127.0.0.1:" + good + " -> 127.0.0.1:" + server + " backend-tls(tls-only.example)", p.nextLine());
            RouteIT.awaitListening(server, s);
            RouteIT.Result r = run(dir, program("curl"), "-sS", "--max-time", "30", "http://127.0.0.1:" + good + "/");
            assertEquals(0, r.status(), r.output());
            assertTrue(r.output().contains("s_server"), "plain HTTP in, the TLS server's page out: " + r.output());
            ConfigReloadIT.awaitErr(p, "end=backend-closed tls=\"backend TLSv1.3");
            assertTrue(run(dir, program("curl"), "-sS", "--max-time", "30", "http://127.0.0.1:" + wrongName + "/").status() != 0);
            ConfigReloadIT.awaitErr(p, "end=backend-tls why=\"No subject alternative DNS name matching other.example");
            assertTrue(run(dir, program("curl"), "-sS", "--max-time", "30", "http://127.0.0.1:" + noCa + "/").status() != 0);
            ConfigReloadIT.awaitErr(p, "end=backend-tls why=\"PKIX path building failed");
        } finally {
            RouteIT.stop(s);
        }
    }

    @Test
    void sighupLoadsNewCertificatesForNewClientsAndKeepsTheOldOnesIfTheNewFilesAreBad(@TempDir Path dir) throws Exception {
        String openssl = program("openssl");
        assertEquals(0, run(dir, openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "srv.key",
                "-out", "srv.crt", "-days", "2", "-subj", "/O=first/CN=srv.example", "-addext", "subjectAltName=DNS:srv.example").status());
        int port = Ports.free();
        HttpServer http = httpBackend();
        Process open = null;
        try (JarProcess p = new JarProcess("-L", port + ":127.0.0.1:" + http.getAddress().getPort(),
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
            ConfigReloadIT.awaitErr(p, "reload: tls: reloaded certificate for " + port + ": CN=srv.example,O=second, not after ");
            assertEquals("subject=O=second,CN=srv.example", RouteIT.subjectVia(dir, port, "srv.example"));
            java.nio.file.Files.writeString(dir.resolve("srv.key"), "not a key\n");
            p.signal("HUP");
            ConfigReloadIT.awaitErr(p, "no '-----BEGIN PRIVATE KEY-----' block (nor RSA or EC PRIVATE KEY); keeping the certificates loaded before");
            assertEquals("subject=O=second,CN=srv.example", RouteIT.subjectVia(dir, port, "srv.example"));
            toOpen.write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            toOpen.flush();
            String answer = new String(open.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertTrue(answer.contains("plain backend"), "the connection opened before both reloads still works: " + answer);
        } finally {
            RouteIT.stop(open);
            http.stop(0);
        }
    }

    @Test
    void withRoutesTheRoutedNamesPassThroughAndTheDefaultRouteIsTerminated(@TempDir Path dir) throws Exception {
        certificate(dir, "site.example", false);
        certificate(dir, "pass.example", false);
        int port = Ports.free();
        int passServer = Ports.free();
        HttpServer http = httpBackend();
        Process pass = RouteIT.tlsServer(dir, "pass.example", passServer);
        try (JarProcess p = new JarProcess("-L", port + ":127.0.0.1:" + http.getAddress().getPort(),
                "--tls-cert", port + ":" + dir.resolve("site.example.crt") + ":" + dir.resolve("site.example.key"),
                "--route", port + ":sni:pass.example=127.0.0.1:" + passServer)) {
            p.nextLine();
            assertEquals("subject=CN=pass.example", RouteIT.subjectVia(dir, port, "pass.example"), "passed through to its own server");
            assertEquals("subject=CN=site.example", RouteIT.subjectVia(dir, port, "site.example"), "terminated here");
            RouteIT.Result r = curl(dir, "site.example", port);
            assertEquals("plain backend\n", r.output());
            RouteIT.Result through = curl(dir, "pass.example", port);
            assertTrue(through.output().contains("s_server"), through.output());
            ConfigReloadIT.awaitErr(p, "route=default sni=\"site.example\" alpn=\"h2,http/1.1\" tls=\"TLSv1.3");
            // plain HTTP on the TLS listener: its default route terminates TLS, so it never reaches the backend in the clear
            RouteIT.Result plain = run(dir, program("curl"), "-sS", "--max-time", "30", "http://127.0.0.1:" + port + "/");
            assertTrue(plain.status() != 0 && !plain.output().contains("plain backend"), plain.output());
            ConfigReloadIT.awaitErr(p, "end=tls-handshake why=\"not TLS (a plaintext client?): its first bytes were http, and no route takes that\"");
        } finally {
            RouteIT.stop(pass);
            http.stop(0);
        }
    }

    @Test
    void aThousandHalfOpenHandshakesEachEndAndAreCountedWhileHealthzAnswers(@TempDir Path dir) throws Exception {
        certificate(dir, "srv.example", false);
        int port = Ports.free();
        int stats = Ports.free();
        HttpServer http = httpBackend();
        java.util.List<Socket> held = new java.util.ArrayList<>();
        try (JarProcess p = new JarProcess("-L", port + ":127.0.0.1:" + http.getAddress().getPort(), "--quiet",
                "--tls-cert", port + ":" + dir.resolve("srv.example.crt") + ":" + dir.resolve("srv.example.key"),
                "--tls-handshake-timeout", "3s", "--stats", Integer.toString(stats))) {
            p.nextLine();
            p.nextLine();
            for (int i = 0; i < 1000; i++) {
                Socket s = new Socket("127.0.0.1", port);
                s.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01}); // a hello's start, never finished
                held.add(s);
            }
            // the loop still answers while they wait (no timing asserted: it answers at all, within curl's 30 s)
            RouteIT.Result health = run(dir, program("curl"), "-sS", "--max-time", "30", "http://127.0.0.1:" + stats + "/healthz");
            assertEquals(0, health.status(), health.output());
            String fw = "forward=\"127.0.0.1:" + port + "\"";
            String want = "epollproxy_tls_handshake_failures_total{" + fw + ",reason=\"timeout\"} 1000";
            long end = System.nanoTime() + 120_000_000_000L;
            String metrics;
            while (true) {
                metrics = run(dir, program("curl"), "-sS", "http://127.0.0.1:" + stats + "/metrics").output();
                if (metrics.contains(want) && metrics.contains("reason=\"tls-handshake\"} 1000")) break;
                if (System.nanoTime() > end) throw new AssertionError("not all 1000 ended in 120 s:\n" + metrics);
                Thread.sleep(100); // each scrape is a curl process: not back to back for the 3 s the timeouts take
            }
            // (both counters are waited for: the TLS failures and the loops' ended connections are counted apart,
            // and a scrape may come between the two)
            for (Socket s : held) { // each was closed by the proxy
                s.setSoTimeout(30_000);
                drain(s.getInputStream());
            }
            RouteIT.Result ok = curl(dir, "srv.example", port);
            assertEquals("plain backend\n", ok.output());
        } finally {
            for (Socket s : held) s.close();
            http.stop(0);
        }
    }

    @Test
    void configFileTlsLinesTerminateAndSighupReadsThemAgain(@TempDir Path dir) throws Exception {
        certificate(dir, "one.example", false);
        certificate(dir, "two.example", true);
        int port = Ports.free();
        HttpServer http = httpBackend();
        Path conf = dir.resolve("proxy.conf");
        java.nio.file.Files.writeString(conf, String.join("\n",
                "127.0.0.1 " + port + " 127.0.0.1 " + http.getAddress().getPort(),
                "tls-cert 127.0.0.1 " + port + " " + dir.resolve("one.example.crt") + " " + dir.resolve("one.example.key") + "  # the default",
                "tls-alpn 127.0.0.1 " + port + " http/1.1", ""));
        try (JarProcess p = new JarProcess("--config", conf.toString())) {
            assertEquals("listening tcp 127.0.0.1:" + port + " tls(1 cert, alpn http/1.1) -> 127.0.0.1:" + http.getAddress().getPort(), p.nextLine());
            assertEquals("plain backend\n", curl(dir, "one.example", port).output());
            java.nio.file.Files.writeString(conf, String.join("\n",
                    "127.0.0.1 " + port + " 127.0.0.1 " + http.getAddress().getPort(),
                    "tls-cert 127.0.0.1 " + port + " " + dir.resolve("two.example.crt") + " " + dir.resolve("two.example.key"), ""));
            p.signal("HUP");
            ConfigReloadIT.awaitErr(p, "reload: listening tcp 127.0.0.1:" + port + " tls(1 cert) -> ");
            assertEquals("subject=CN=two.example", RouteIT.subjectVia(dir, port, "two.example"));
            java.nio.file.Files.writeString(conf, String.join("\n",
                    "127.0.0.1 " + port + " 127.0.0.1 " + http.getAddress().getPort(),
                    "tls-cert 127.0.0.1 " + port + " " + dir.resolve("missing.crt") + " " + dir.resolve("two.example.key"), ""));
            p.signal("HUP");
            ConfigReloadIT.awaitErr(p, "missing.crt: cannot read");
            ConfigReloadIT.awaitErr(p, "keeping the running configuration");
            assertEquals("subject=CN=two.example", RouteIT.subjectVia(dir, port, "two.example"));
        } finally {
            http.stop(0);
        }
    }

    @Test
    void haproxyVerifyingTheCertificateIsAClientOfATerminatingListener(@TempDir Path dir) throws Exception {
        String haproxy = program("haproxy");
        certificate(dir, "srv.example", false);
        int port = Ports.free();
        int front = Ports.free();
        HttpServer http = httpBackend();
        java.nio.file.Files.writeString(dir.resolve("haproxy.cfg"), String.join("\n",
                "global", "  maxconn 100", "defaults", "  mode http", "  timeout connect 10s", "  timeout client 30s", "  timeout server 30s",
                "frontend plain", "  bind 127.0.0.1:" + front, "  default_backend viaproxy",
                "backend viaproxy",
                "  server p 127.0.0.1:" + port + " ssl verify required ca-file " + dir.resolve("srv.example.crt") + " sni str(srv.example)", ""));
        Process h = null;
        try (JarProcess p = new JarProcess("-L", port + ":127.0.0.1:" + http.getAddress().getPort(),
                "--tls-cert", port + ":" + dir.resolve("srv.example.crt") + ":" + dir.resolve("srv.example.key"))) {
            p.nextLine();
            h = new ProcessBuilder(haproxy, "-db", "-f", dir.resolve("haproxy.cfg").toString()).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("haproxy.log").toFile()).start();
            RouteIT.awaitListening(front, h);
            RouteIT.Result r = run(dir, program("curl"), "-sS", "--max-time", "30", "http://127.0.0.1:" + front + "/");
            assertEquals("plain backend\n", r.output(), "haproxy log:\n" + java.nio.file.Files.readString(dir.resolve("haproxy.log")));
        } finally {
            RouteIT.stop(h);
            http.stop(0);
        }
    }

    @Test
    void badTlsOptionsAreUsageErrorsOfOneLine(@TempDir Path dir) throws Exception {
        certificate(dir, "srv.example", false);
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
        // C1 only, as JarProcess runs the jar when it does no TLS: these stop before any handshake.
        java.util.List<JarProcess> started = new java.util.ArrayList<>();
        try {
            for (String[] c : cases) {
                java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("-L", "9:127.0.0.1:1"));
                args.addAll(java.util.List.of(c[0].split(" ")));
                started.add(new JarProcess(java.util.List.of("-XX:TieredStopAtLevel=1"), args.toArray(new String[0])));
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

    @Test
    void sendProxyV2CarriesTheTlsFactsToTheBackend(@TempDir Path dir) throws Exception {
        certificate(dir, "srv.example", false);
        int port = Ports.free();
        java.util.concurrent.CompletableFuture<byte[]> header = new java.util.concurrent.CompletableFuture<>();
        try (java.net.ServerSocket backend = new java.net.ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"))) {
            Thread t = new Thread(() -> {
                try (Socket c = backend.accept()) {
                    java.io.DataInputStream in = new java.io.DataInputStream(c.getInputStream());
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
            try (JarProcess p = new JarProcess("-L", port + ":127.0.0.1:" + backend.getLocalPort(), "--send-proxy", "v2",
                    "--tls-cert", port + ":" + dir.resolve("srv.example.crt") + ":" + dir.resolve("srv.example.key"), "--tls-alpn", port + ":http/1.1")) {
                p.nextLine();
                RouteIT.Result r = curl(dir, "srv.example", port);
                assertEquals("ok\n", r.output());
                String tlvs = new String(header.get(30, java.util.concurrent.TimeUnit.SECONDS), StandardCharsets.ISO_8859_1);
                assertTrue(tlvs.contains("\u0001\u0000\u0008http/1.1"), "PP2_TYPE_ALPN: " + tlvs);
                assertTrue(tlvs.contains("\u0002\u0000\u000bsrv.example"), "PP2_TYPE_AUTHORITY (the SNI): " + tlvs);
                assertTrue(tlvs.contains("\u0021\u0000\u0007TLSv1.3"), "PP2_SUBTYPE_SSL_VERSION: " + tlvs);
                assertTrue(tlvs.contains("\u0023\u0000\u0016TLS_AES_128_GCM_SHA256"), "PP2_SUBTYPE_SSL_CIPHER: " + tlvs);
                assertTrue(tlvs.contains("\u0020\u0000"), "PP2_TYPE_SSL: " + tlvs);
            }
        }
    }

    @Test
    void aForgedRecordAfterTheHandshakeEndsTheConnectionAsTlsError(@TempDir Path dir) throws Exception {
        certificate(dir, "srv.example", false);
        int port = Ports.free();
        HttpServer http = httpBackend();
        try (JarProcess p = new JarProcess("-L", port + ":127.0.0.1:" + http.getAddress().getPort(),
                "--tls-cert", port + ":" + dir.resolve("srv.example.crt") + ":" + dir.resolve("srv.example.key"))) {
            p.nextLine();
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
            ConfigReloadIT.awaitErr(p, "end=tls-error why=");
        } finally {
            http.stop(0);
        }
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
