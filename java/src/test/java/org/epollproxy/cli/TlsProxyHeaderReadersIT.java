package org.epollproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.epollproxy.Ports;
import org.epollproxy.forward.ThirdParty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PROXY v2 header of a TLS-terminating listener, TLVs and all (ALPN, SNI, PP2_TYPE_SSL with its
 * sub-records), read by the servers that meet it behind us: a real haproxy ({@code bind ... accept-proxy}),
 * which refuses a header whose records overrun it, names the client the header announced and the SNI it
 * carried as authority; a real nginx ({@code listen ... proxy_protocol}) names the client.
 */
class TlsProxyHeaderReadersIT {
    @TempDir
    Path dir;

    @Test
    void haproxyAcceptsTheTlvsOfATerminatedConnection() throws Exception {
        String haproxy = ThirdParty.require("haproxy", "haproxy");
        TlsIT.certificate(dir, "srv.example", false);
        int hap = Ports.free();
        Files.writeString(dir.resolve("haproxy.cfg"), String.join("\n",
                "global", "  maxconn 64",
                "defaults", "  mode http", "  timeout connect 5s", "  timeout client 30s", "  timeout server 30s",
                "frontend fe", "  bind 127.0.0.1:" + hap + " accept-proxy",
                "  http-request return status 200 content-type text/plain lf-string \"authority=%[fc_pp_authority] src=%[src]\\n\"",
                ""));
        File out = dir.resolve("haproxy.out").toFile();
        Process h = new ProcessBuilder(haproxy, "-db", "-f", dir.resolve("haproxy.cfg").toString())
                .redirectErrorStream(true).redirectOutput(out).start();
        int port = Ports.free();
        try (JarProcess p = new JarProcess(List.of(TlsIT.LATE_JIT), "--send-proxy", "v2", "-L", port + ":127.0.0.1:" + hap,
                "--tls-cert", port + ":" + dir.resolve("srv.example.crt") + ":" + dir.resolve("srv.example.key"),
                "--tls-alpn", port + ":http/1.1")) {
            TlsReloadIT.line(p);
            awaitListening(h, hap, out);
            RouteIT.Result r = TlsIT.curl(dir, "srv.example", port);
            assertEquals("authority=srv.example src=127.0.0.1\n", r.output(), "haproxy: " + Files.readString(out.toPath()));
            TlsIT.awaitLine(p, port, "end=");
        } finally {
            ThirdParty.stop(h);
        }
    }

    @Test
    void nginxAcceptsTheHeaderOfATerminatedConnection() throws Exception {
        String nginx = ThirdParty.require("nginx", "nginx");
        TlsIT.certificate(dir, "srv.example", false);
        int ngx = Ports.free();
        Files.createDirectories(dir.resolve("tmp"));
        String d = dir.toString();
        Files.writeString(dir.resolve("nginx.conf"), String.join("\n",
                "daemon off;", "master_process off;", "pid " + d + "/nginx.pid;", "error_log " + d + "/error.log;",
                "events { worker_connections 64; }",
                "http {", "  access_log off;",
                "  client_body_temp_path " + d + "/tmp; proxy_temp_path " + d + "/tmp; fastcgi_temp_path " + d + "/tmp;",
                "  uwsgi_temp_path " + d + "/tmp; scgi_temp_path " + d + "/tmp;",
                "  server {", "    listen 127.0.0.1:" + ngx + " proxy_protocol;",
                "    location / { default_type text/plain; return 200 \"client=$proxy_protocol_addr\\n\"; }", "  }", "}", ""));
        File out = dir.resolve("nginx.out").toFile();
        Process n = new ProcessBuilder(nginx, "-p", d, "-e", d + "/error.log", "-c", d + "/nginx.conf")
                .redirectErrorStream(true).redirectOutput(out).start();
        int port = Ports.free();
        try (JarProcess p = new JarProcess(List.of(TlsIT.LATE_JIT), "--send-proxy", "v2", "-L", port + ":127.0.0.1:" + ngx,
                "--tls-cert", port + ":" + dir.resolve("srv.example.crt") + ":" + dir.resolve("srv.example.key"),
                "--tls-alpn", port + ":http/1.1")) {
            TlsReloadIT.line(p);
            awaitListening(n, ngx, out);
            RouteIT.Result r = TlsIT.curl(dir, "srv.example", port);
            assertEquals("client=127.0.0.1\n", r.output(), "nginx: " + Files.readString(out.toPath())
                    + (Files.exists(dir.resolve("error.log")) ? Files.readString(dir.resolve("error.log")) : ""));
        } finally {
            ThirdParty.stop(n);
        }
    }

    /** Waits (60 s at most) until {@code server} accepts on {@code port}; fails at once if it exited. */
    static void awaitListening(Process server, int port, File out) throws Exception {
        long end = System.nanoTime() + 60_000_000_000L;
        while (true) {
            try (Socket probe = new Socket()) {
                probe.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                return;
            } catch (java.io.IOException e) {
                if (!server.isAlive() || System.nanoTime() > end) throw new AssertionError("not listening on " + port + ": " + Files.readString(out.toPath()));
                Thread.sleep(50); // polling a condition with a deadline, not synchronising on time
            }
        }
    }
}
