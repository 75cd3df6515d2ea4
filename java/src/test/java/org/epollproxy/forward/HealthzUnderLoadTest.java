package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.epollproxy.stats.StatsServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * A readiness probe answers while the stats port serves 1,000 expensive scrapes at once: /connections of
 * 400 open connections each, all requested before the probe. The deadline here is generous (a loaded
 * machine); bench/healthz-under-load.sh measures the real latency.
 */
@Isolated("1,000 stats clients and 800 proxied sockets")
class HealthzUnderLoadTest {
    static final int OPEN = 400;
    static final int SCRAPES = 1000;

    @Test
    void healthzAnswersOkWhileAThousandExpensiveScrapesAreInFlight() throws Exception {
        try (TestBackend backend = TestBackend.echo(); TestProxy proxy = new TestProxy(ThreadsTest.twoLoops(), backend.port());
                StatsServer stats = StatsEndpointTest.statsOn(proxy)) {
            List<Socket> held = new ArrayList<>();
            List<Socket> scrapes = new ArrayList<>();
            try {
                for (int i = 0; i < OPEN; i++) held.add(ClientLimitsTest.from("127.0.0.1", proxy.port()));
                TestProxy.await(() -> backend.accepted.get() == OPEN, OPEN + " connections open through the proxy");
                for (int i = 0; i < SCRAPES; i++) scrapes.add(StatsStallTest.open(stats));
                byte[] req = "GET /connections HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
                for (Socket c : scrapes) c.getOutputStream().write(req);
                long t0 = System.nanoTime();
                String probe = StatsStallTest.get(stats, "/healthz");
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                assertTrue(probe.startsWith("HTTP/1.1 200 OK\r\n") && probe.endsWith("\r\n\r\nok\n"), "the probe's answer: " + probe);
                assertTrue(ms < 5000, "/healthz took " + ms + " ms behind " + SCRAPES + " scrapes of /connections");
                int answered = 0;
                for (Socket c : scrapes) {
                    String reply = new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                    if (reply.startsWith("HTTP/1.1 200 OK\r\n")) answered++;
                }
                assertEquals(SCRAPES, answered, "every scrape answered too");
            } finally {
                for (Socket c : scrapes) c.close();
                for (Socket c : held) c.close();
            }
        }
    }

    /**
     * 1,024 clients (the stats port's regular slots) connect and send nothing: a probe still gets its answer
     * at once, from the slots kept for probes, while a scrape there is told to come back (503).
     */
    @Test
    void aProbeIsAnsweredWhileSlowClientsHoldEveryRegularSlot() throws Exception {
        try (TestBackend backend = TestBackend.echo(); TestProxy proxy = new TestProxy(ThreadsTest.twoLoops(), backend.port());
                StatsServer stats = StatsEndpointTest.statsOn(proxy)) {
            List<Socket> slow = new ArrayList<>();
            try {
                for (int i = 0; i < 1024; i++) slow.add(StatsStallTest.open(stats));
                long t0 = System.nanoTime();
                String probe = StatsStallTest.get(stats, "/healthz");
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                assertTrue(probe.startsWith("HTTP/1.1 200 OK\r\n") && probe.endsWith("ok\n"), probe);
                assertTrue(ms < StatsServer.CLIENT_TIMEOUT_MS / 2, "/healthz took " + ms + " ms: it waited for the slow clients' timeout");
                assertTrue(StatsStallTest.get(stats, "/livez").endsWith("ok\n"));
                assertTrue(StatsStallTest.get(stats, "/metrics").startsWith("HTTP/1.1 503 "), "no scrape in the probes' slots");
            } finally {
                for (Socket c : slow) c.close();
            }
        }
    }
}
