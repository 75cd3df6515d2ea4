package org.epollproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.epollproxy.Ports;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Routes through the real jar with real software on both sides: two {@code openssl s_server}s with
 * certificates of their own behind two SNI routes, reached by {@code openssl s_client -servername} and
 * {@code curl --resolve}, each client verifying its own backend's certificate (the proxy did not
 * terminate TLS); a real sshd and an HTTPS server on one proxy port, reached by {@code ssh} and curl;
 * HTTP/1.1 and TLS on one port; an mTLS backend verifying a client certificate through a route; routes from a
 * config file changed by SIGHUP without cutting a connection.
 */
class RouteIT {

    /** Runs {@code cmd} (stdin closed) to its end within 60 s; returns its exit status and its stdout+stderr. */
    static Result run(Path dir, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", cmd) + " did not end within 60 s");
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    record Result(int status, String output) {}

    /** The program's path; missing, the test is skipped, or fails under CI=true (bin/setup installs it). */
    static String program(String name) {
        String pkg = switch (name) {
            case "sshd" -> "openssh-server";
            case "ssh", "ssh-keygen" -> "openssh-client";
            default -> name; // openssl, curl
        };
        return org.epollproxy.forward.ThirdParty.require(name, pkg);
    }

    /** A self-signed EC certificate for {@code name}: NAME.crt and NAME.key in {@code dir}. */
    static void certificate(Path dir, String name) throws Exception {
        Result r = run(dir, program("openssl"), "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", name + ".key", "-out", name + ".crt", "-days", "2", "-subj", "/CN=" + name,
                "-addext", "subjectAltName=DNS:" + name);
        assertEquals(0, r.status(), r.output());
    }

    /** {@code openssl s_server -www} for {@code name}'s certificate on a free port; waits until it accepts. */
    static Process tlsServer(Path dir, String name, int port) throws Exception {
        Process p = new ProcessBuilder(program("openssl"), "s_server", "-accept", Integer.toString(port), "-naccept", "1000",
                "-cert", name + ".crt", "-key", name + ".key", "-www", "-quiet")
                .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        awaitListening(port, p);
        return p;
    }

    static void awaitListening(int port, Process p) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try (Socket s = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException e) {
                if (!p.isAlive()) throw new AssertionError("server on port " + port + " exited: " + p.exitValue());
                if (System.nanoTime() > end) throw new AssertionError("nothing listens on " + port + " after 30 s");
                Thread.sleep(20);
            }
        }
    }

    /** The subject line s_client prints for the certificate the server sent. */
    static String subjectVia(Path dir, int port, String serverName) throws Exception {
        Result r = run(dir, program("openssl"), "s_client", "-connect", "127.0.0.1:" + port, "-servername", serverName);
        for (String line : r.output().split("\n")) if (line.startsWith("subject=")) return line.replace(" ", "");
        throw new AssertionError("no subject in s_client's output:\n" + r.output());
    }

    static Result curlHttps(Path dir, String name, int port) throws Exception {
        return run(dir, program("curl"), "-sS", "--max-time", "30", "--resolve", name + ":" + port + ":127.0.0.1", "--cacert", name + ".crt",
                "https://" + name + ":" + port + "/");
    }

    @Test
    void twoTlsSitesOnOnePortEachClientGetsItsOwnBackendsCertificate(@TempDir Path dir) throws Exception {
        certificate(dir, "a.example");
        certificate(dir, "b.example");
        int pa = Ports.free();
        int pb = Ports.free();
        int proxyPort = Ports.free();
        int stats = Ports.free();
        Process a = tlsServer(dir, "a.example", pa);
        Process b = tlsServer(dir, "b.example", pb);
        try (JarProcess p = new JarProcess("--route", proxyPort + ":sni:a.example=127.0.0.1:" + pa,
                "--route", proxyPort + ":sni:*.b.example=127.0.0.1:" + pb, "--route", proxyPort + ":sni:b.example=127.0.0.1:" + pb,
                "--stats", Integer.toString(stats))) {
            assertTrue(p.nextLine().startsWith("listening tcp 127.0.0.1:" + proxyPort + " -> (no default route), sni:a.example="));
            assertEquals("subject=CN=a.example", subjectVia(dir, proxyPort, "a.example"));
            assertEquals("subject=CN=b.example", subjectVia(dir, proxyPort, "B.EXAMPLE"));
            assertEquals("subject=CN=b.example", subjectVia(dir, proxyPort, "www.b.example"), "the wildcard route");
            Result ca = curlHttps(dir, "a.example", proxyPort);
            assertEquals(0, ca.status(), "curl verified a.example's own certificate through the proxy: " + ca.output());
            assertTrue(ca.output().contains("s_server"), ca.output());
            Result cb = curlHttps(dir, "b.example", proxyPort);
            assertEquals(0, cb.status(), cb.output());
            // a name no route knows, and no default route: closed, said and counted
            Result none = run(dir, program("openssl"), "s_client", "-connect", "127.0.0.1:" + proxyPort, "-servername", "c.example");
            assertTrue(none.status() != 0, none.output());
            ConfigReloadIT.awaitErr(p, "end=no-route route=- sni=\"c.example\"");
            ConfigReloadIT.awaitErr(p, "route=sni:a.example sni=\"a.example\" alpn=\"h2,http/1.1\""); // curl offers both
            String metrics = run(dir, program("curl"), "-sS", "http://127.0.0.1:" + stats + "/metrics").output();
            assertTrue(metrics.contains("epollproxy_route_connections_total{forward=\"127.0.0.1:" + proxyPort
                    + "\",proto=\"tcp\",route=\"sni:a.example\"} 2"), metrics);
            assertTrue(metrics.contains("reason=\"no-route\"} 1"), metrics);
        } finally {
            stop(a);
            stop(b);
        }
    }

    @Test
    void anMtlsBackendVerifiesTheClientCertificateThroughTheRoute(@TempDir Path dir) throws Exception {
        certificate(dir, "m.example");
        certificate(dir, "client.example"); // self-signed: it is its own CA for the backend
        int backend = Ports.free();
        int proxyPort = Ports.free();
        Process m = new ProcessBuilder(program("openssl"), "s_server", "-accept", Integer.toString(backend), "-naccept", "100",
                "-cert", "m.example.crt", "-key", "m.example.key", "-Verify", "1", "-CAfile", "client.example.crt", "-www", "-quiet")
                .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        awaitListening(backend, m);
        try (JarProcess p = new JarProcess("--route", proxyPort + ":sni:m.example=127.0.0.1:" + backend)) {
            p.nextLine();
            Result withCert = run(dir, program("curl"), "-sS", "--max-time", "30", "--resolve", "m.example:" + proxyPort + ":127.0.0.1",
                    "--cacert", "m.example.crt", "--cert", "client.example.crt", "--key", "client.example.key",
                    "https://m.example:" + proxyPort + "/");
            assertEquals(0, withCert.status(), "the backend verified the client's certificate through the proxy: " + withCert.output());
            assertTrue(withCert.output().contains("s_server"), withCert.output());
            Result without = curlHttps(dir, "m.example", proxyPort);
            assertTrue(without.status() != 0, "no client certificate, no page: " + without.output());
        } finally {
            stop(m);
        }
    }

    @Test
    void sshAndHttpsAndHttpShareOnePort(@TempDir Path dir) throws Exception {
        String sshd = program("sshd");
        String ssh = program("ssh");
        certificate(dir, "web.example");
        // sshd with its own host key, config and authorized key, on a free port (run as root: privilege separation dir needed)
        assertEquals(0, run(dir, program("ssh-keygen"), "-q", "-t", "ed25519", "-N", "", "-f", "hostkey").status());
        assertEquals(0, run(dir, program("ssh-keygen"), "-q", "-t", "ed25519", "-N", "", "-f", "userkey").status());
        Files.copy(dir.resolve("userkey.pub"), dir.resolve("authorized_keys"));
        int sshPort = Ports.free();
        Files.writeString(dir.resolve("sshd_config"), String.join("\n", "Port " + sshPort, "ListenAddress 127.0.0.1",
                "HostKey " + dir.resolve("hostkey"), "AuthorizedKeysFile " + dir.resolve("authorized_keys"), "PidFile " + dir.resolve("sshd.pid"),
                "StrictModes no", "UsePAM no", "PasswordAuthentication no", "PermitRootLogin prohibit-password", ""));
        Files.createDirectories(Path.of("/run/sshd"));
        int https = Ports.free();
        int proxyPort = Ports.free();
        Process web = tlsServer(dir, "web.example", https);
        Process sshdProc = new ProcessBuilder(sshd, "-D", "-e", "-f", dir.resolve("sshd_config").toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("sshd.log").toFile()).start();
        HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 50);
        http.createContext("/", ex -> {
            byte[] body = "plain http\n".getBytes(StandardCharsets.US_ASCII);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        http.start();
        try (JarProcess p = new JarProcess("-L", proxyPort + ":127.0.0.1:" + https,
                "--route", proxyPort + ":proto:ssh=127.0.0.1:" + sshPort,
                "--route", proxyPort + ":proto:http=127.0.0.1:" + http.getAddress().getPort())) {
            p.nextLine();
            awaitListening(sshPort, sshdProc);
            Result r = run(dir, ssh, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
                    "-o", "ConnectTimeout=30", "-i", dir.resolve("userkey").toString(), "-p", Integer.toString(proxyPort),
                    System.getProperty("user.name") + "@127.0.0.1", "echo", "ok");
            assertEquals(0, r.status(), r.output() + "\nsshd:\n" + Files.readString(dir.resolve("sshd.log")));
            assertTrue(r.output().contains("ok"), r.output());
            Result c = curlHttps(dir, "web.example", proxyPort);
            assertEquals(0, c.status(), "TLS took the default route to the HTTPS server: " + c.output());
            Result h = run(dir, program("curl"), "-sS", "--max-time", "30", "http://127.0.0.1:" + proxyPort + "/");
            assertEquals("plain http\n", h.output());
            ConfigReloadIT.awaitErr(p, "route=proto:ssh sni=\"-\"");
            ConfigReloadIT.awaitErr(p, "route=proto:http");
            ConfigReloadIT.awaitErr(p, "route=default sni=\"web.example\"");
        } finally {
            http.stop(0);
            stop(web);
            stop(sshdProc);
        }
    }

    @Test
    void routeLinesInTheConfigFileChangeOnSighupWithoutCuttingAConnection(@TempDir Path dir) throws Exception {
        int port = Ports.free();
        Path conf = dir.resolve("proxy.conf");
        try (TaggedEcho one = new TaggedEcho("one"); TaggedEcho two = new TaggedEcho("two"); TaggedEcho def = new TaggedEcho("def")) {
            Files.writeString(conf, String.join("\n",
                    "127.0.0.1 " + port + " 127.0.0.1 " + def.port(),
                    "route 127.0.0.1 " + port + " proto:http 127.0.0.1 " + one.port() + "   # HTTP to one", ""));
            try (JarProcess p = new JarProcess("--config", conf.toString())) {
                assertEquals("listening tcp 127.0.0.1:" + port + " -> 127.0.0.1:" + def.port() + ", proto:http=127.0.0.1:" + one.port(), p.nextLine());
                Socket open = ConfigReloadIT.connect(port);
                assertEquals("one:GET /a", TaggedEcho.ask(open, "GET /a"));
                try (Socket s = ConfigReloadIT.connect(port)) {
                    assertEquals("def:hello", TaggedEcho.ask(s, "hello"));
                }
                Files.writeString(conf, String.join("\n",
                        "127.0.0.1 " + port + " 127.0.0.1 " + def.port(),
                        "route 127.0.0.1 " + port + " proto:http 127.0.0.1 " + two.port() + " [backend=127.0.0.1:" + one.port() + "]",
                        "route 127.0.0.1 " + port + " any 127.0.0.1 " + one.port(), ""));
                p.signal("HUP");
                ConfigReloadIT.awaitErr(p, "0 added, 0 removed, 1 changed");
                try (Socket s = ConfigReloadIT.connect(port)) {
                    assertEquals("two:GET /b", TaggedEcho.ask(s, "GET /b"), "HTTP now goes to two first");
                }
                try (Socket s = ConfigReloadIT.connect(port)) {
                    assertEquals("one:hello", TaggedEcho.ask(s, "hello"), "the new catch-all route");
                }
                assertEquals("one:more", TaggedEcho.ask(open, "more"), "the connection opened before the reload lives on");
                open.close();
                Files.writeString(conf, "route 127.0.0.1 " + port + " sni:x.example 127.0.0.1 " + one.port() + "\nallow 10.0.0.1\n");
                p.signal("HUP");
                ConfigReloadIT.awaitErr(p, conf + ":2: allow cannot follow the route of line 1");
            }
        }
    }

    @Test
    void badRoutesAreUsageErrorsNamingTheInput() throws Exception {
        List<String[]> cases = new ArrayList<>();
        cases.add(new String[] {"--route", "443:sni:a..example=127.0.0.1:1", "sni:a..example: expected a host name"});
        cases.add(new String[] {"--route", "443:proto:smtp=127.0.0.1:1", "proto:smtp: expected proto:tls, proto:ssh or proto:http"});
        cases.add(new String[] {"--route", "443:127.0.0.1:1", "no '=' before the backends"});
        cases.add(new String[] {"--route", "0:any=127.0.0.1:1", "a route needs a fixed port"});
        // Independent processes: started together, checked in turn (one JVM start of waiting instead of six).
        List<JarProcess> started = new ArrayList<>();
        try {
            for (String[] c : cases) started.add(new JarProcess(c[0], c[1]));
            JarProcess twice = new JarProcess("--route", "9:any=127.0.0.1:1", "--route", "9:any=127.0.0.1:2");
            started.add(twice);
            JarProcess small = new JarProcess("--route", "9:any=127.0.0.1:1", "--buffer-size", "4k");
            started.add(small);
            for (int i = 0; i < cases.size(); i++) {
                JarProcess p = started.get(i);
                String[] c = cases.get(i);
                assertEquals(2, p.exitCode(60), p.stderr());
                assertTrue(p.stderr().contains("--route " + c[1] + ": ") && p.stderr().contains(c[2]), p.stderr());
            }
            assertEquals(2, twice.exitCode(60), twice.stderr());
            assertTrue(twice.stderr().contains("the route any on 127.0.0.1:9 is already given by --route 9:any=127.0.0.1:1"), twice.stderr());
            assertEquals(2, small.exitCode(60), small.stderr());
            assertTrue(small.stderr().contains("--preread-max 16384 does not fit --buffer-size 4096"), small.stderr());
        } finally {
            for (JarProcess p : started) p.close();
        }
    }

    static void stop(Process p) throws InterruptedException {
        if (p == null) return;
        p.destroy();
        if (!p.waitFor(5, TimeUnit.SECONDS)) p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }
}
