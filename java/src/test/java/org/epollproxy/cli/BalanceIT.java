package org.epollproxy.cli;

import static org.epollproxy.cli.ConfigReloadIT.awaitErr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.epollproxy.Ports;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Balancing and health through the real jar: -L with --balance, the config options, /backends, /metrics, reload. */
class BalanceIT {

    static String ask(int port, String text) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            return TaggedEcho.ask(s, text);
        }
    }

    static String get(String statsLine, String path) throws Exception {
        String addr = statsLine.split(" ")[2];
        HttpResponse<String> r = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://" + addr + path)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), path);
        return r.body();
    }

    @Test
    void roundrobinOverThreeBackendsWithChecksAcrossTwoThreads() throws Exception {
        int port = Ports.free();
        try (TaggedEcho a = new TaggedEcho("a"); TaggedEcho b = new TaggedEcho("b"); TaggedEcho c = new TaggedEcho("c")) {
            String spec = port + ":127.0.0.1:" + a.port() + ",127.0.0.1:" + b.port() + ",127.0.0.1:" + c.port();
            try (JarProcess p = new JarProcess("-L", spec, "--balance", "roundrobin", "--threads", "2", "--check", "200ms",
                    "--fall", "2", "--rise", "2", "--stats", "0", "--quiet")) {
                assertTrue(p.nextLine().startsWith("listening tcp 127.0.0.1:" + port));
                String stats = p.nextLine();
                Map<String, Integer> got = new HashMap<>();
                for (int i = 0; i < 300; i++) got.merge(ask(port, "x").split(":")[0], 1, Integer::sum);
                assertEquals(Map.of("a", 100, "b", 100, "c", 100), got);

                String metrics = get(stats, "/metrics");
                for (TaggedEcho t : new TaggedEcho[] {a, b, c}) {
                    String ids = "{forward=\"127.0.0.1:" + port + "\",proto=\"tcp\",backend=\"127.0.0.1:" + t.port() + "\"}";
                    assertTrue(metrics.contains("epollproxy_server_connects_total" + ids + " 100"), metrics);
                    assertTrue(metrics.contains("epollproxy_server_up" + ids + " 1"), metrics);
                }
                assertTrue(metrics.contains("epollproxy_forward_balance_info{forward=\"127.0.0.1:" + port
                        + "\",proto=\"tcp\",policy=\"roundrobin\"} 1"), metrics);

                c.close();
                awaitErr(p, "backend 127.0.0.1:" + c.port() + " of 127.0.0.1:" + port + " down: 2 consecutive checks failed");
                String backends = get(stats, "/backends");
                assertTrue(backends.contains("\"backend\": \"127.0.0.1:" + c.port() + "\", \"weight\": 1, \"state\": \"down\", "
                        + "\"down_reason\": \"checks\""), backends);
                for (int i = 0; i < 20; i++) assertTrue(!ask(port, "y").startsWith("c:"), "c is down");
                assertTrue(!p.stderr().contains("end="), "--quiet: no connection failed: " + p.stderr());
            }
        }
    }

    @Test
    void aReloadKeepsABackendMarkedDownWhenItsAddressStays(@TempDir Path dir) throws Exception {
        int port = Ports.free();
        int dead = Ports.free();
        Path conf = dir.resolve("proxy.conf");
        try (TaggedEcho a = new TaggedEcho("a")) {
            String line = "127.0.0.1 " + port + " 127.0.0.1 " + dead + " [balance=roundrobin, backend=127.0.0.1:" + a.port()
                    + ", max_fails=1, fail_timeout=60]";
            Files.writeString(conf, line + "\n");
            try (JarProcess p = new JarProcess("--config", conf.toString())) {
                p.nextLine();
                for (int i = 0; i < 4; i++) assertEquals("a:x", ask(port, "x"));
                awaitErr(p, "backend 127.0.0.1:" + dead + " of 127.0.0.1:" + port + " down: 1 consecutive connect failures");
                // Change the forward (a weight), keep both addresses: the dead one stays down, nobody tries it.
                Files.writeString(conf, line.replace("]", ", weight=2]") + "\n");
                p.signal("HUP");
                awaitErr(p, "0 added, 0 removed, 1 changed, 0 unchanged");
                int failuresBefore = p.stderr().split("ECONNREFUSED").length;
                for (int i = 0; i < 6; i++) assertEquals("a:y", ask(port, "y"));
                assertEquals(failuresBefore, p.stderr().split("ECONNREFUSED").length, "no connect to the dead backend: " + p.stderr());
            }
        }
    }

    @Test
    void aBadBalanceOptionIsAUsageErrorNamingFileAndLine(@TempDir Path dir) throws Exception {
        Path conf = dir.resolve("bad.conf");
        Files.writeString(conf, "# fine\n127.0.0.1 9 127.0.0.1 10 [weight=3]\n");
        // Both end by themselves: started together, one JVM start waited for instead of two.
        try (OneShots runs = new OneShots()) {
            runs.start("config", "--config", conf.toString()).start("-L", "-L", "9:127.0.0.1:10", "--balance", "random").awaitAll();
            JarProcess p = runs.get("config");
            assertEquals(2, p.exitCode(20));
            assertTrue(p.stderr().contains(conf + ":2: a weight needs balance=roundrobin, leastconn or source"), p.stderr());
            assertTrue(!p.stderr().contains("Exception"), p.stderr());
            JarProcess l = runs.get("-L");
            assertEquals(2, l.exitCode(20));
            assertTrue(l.stderr().contains("--balance: unknown balance policy \"random\""), l.stderr());
        }
    }
}
