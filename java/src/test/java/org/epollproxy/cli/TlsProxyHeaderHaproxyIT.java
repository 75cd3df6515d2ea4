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
 * sub-records), read by a real haproxy ({@code bind ... accept-proxy}), which refuses a header whose records
 * overrun it: haproxy answers, names the client the header announced and the SNI it carried as authority.
 */
class TlsProxyHeaderHaproxyIT {
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
            long end = System.nanoTime() + 60_000_000_000L;
            while (true) { // haproxy listening
                try (Socket probe = new Socket()) {
                    probe.connect(new InetSocketAddress("127.0.0.1", hap), 1000);
                    break;
                } catch (java.io.IOException e) {
                    if (!h.isAlive() || System.nanoTime() > end) throw new AssertionError("haproxy not listening: " + Files.readString(out.toPath()));
                    Thread.sleep(50); // polling a condition with a deadline, not synchronising on time
                }
            }
            RouteIT.Result r = TlsIT.curl(dir, "srv.example", port);
            assertEquals("authority=srv.example src=127.0.0.1\n", r.output(), "haproxy: " + Files.readString(out.toPath()));
            TlsIT.awaitLine(p, port, "end=");
        } finally {
            ThirdParty.stop(h);
        }
    }
}
