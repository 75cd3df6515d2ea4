package org.epollproxy.cli;

import static org.epollproxy.cli.RouteIT.program;
import static org.epollproxy.cli.RouteIT.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.epollproxy.Ports;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * /metrics for forwards that originate TLS (--backend-tls), through the real jar in front of openssl
 * s_server: handshakes done, failed by reason (a wrong name is a certificate failure), their latency, and
 * the bytes on both layers.
 */
class BackendTlsMetricsIT {

    @Test
    void backendHandshakesTheirFailuresLatencyAndBytesAreCounted(@TempDir Path dir) throws Exception {
        TlsIT.certificate(dir, "tls-only.example", false);
        int server = Ports.free();
        int good = Ports.free();
        int wrongName = Ports.free();
        Process s = new ProcessBuilder(program("openssl"), "s_server", "-accept", Integer.toString(server), "-naccept", "100",
                "-cert", "tls-only.example.crt", "-key", "tls-only.example.key", "-www", "-quiet")
                .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String ca = dir.resolve("tls-only.example.crt").toString();
        try (JarProcess p = new JarProcess("-L", good + ":127.0.0.1:" + server, "--backend-tls", good + ":tls-only.example", "--backend-ca", good + ":" + ca,
                "-L", wrongName + ":127.0.0.1:" + server, "--backend-tls", wrongName + ":other.example", "--backend-ca", wrongName + ":" + ca,
                "--stats", "0", "--connect-timeout", "60s")) { // the backend handshake is in the connect: a cold JVM on a busy machine
            TlsReloadIT.line(p);
            TlsReloadIT.line(p);
            String stats = TlsReloadIT.line(p);
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
}
