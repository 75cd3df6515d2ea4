package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.epollproxy.stats.StatsServer;
import org.junit.jupiter.api.Test;

/**
 * A loop that does not answer a scrape in time (busy, paused) must not make a forward's counters go down:
 * Prometheus reads any decrease as a counter reset and counts the whole value again in rate() and increase().
 */
class MetricsWhileALoopIsBusyTest {

    @Test
    void countersNeverGoDownWhenALoopDoesNotAnswer() throws Exception {
        try (TestBackend backend = TestBackend.echo(); TestProxy proxy = new TestProxy(ThreadsTest.twoLoops(), backend.port());
                StatsServer stats = StatsEndpointTest.statsOn(proxy)) {
            // Connections until loop 1 has accepted some (the kernel spreads them by source port).
            for (int i = 0; i < 500 && proxy.onLoop(1, fl -> fl.forwardStats().get(0).accepted) == 0; i++) ThreadsTest.echoOnce(proxy, i);
            TestProxy.await(() -> proxy.proxy.openConnections() == 0, "every pair closed");
            long onLoop1 = proxy.onLoop(1, fl -> fl.forwardStats().get(0).accepted);
            assertTrue(onLoop1 > 0, "loop 1 accepted none of 500 connections");
            String forward = "127.0.0.1:" + proxy.port();
            double before = StatsEndpointTest.metrics(stats).get("epollproxy_connections_accepted_total").value("forward", forward);

            CountDownLatch held = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            proxy.proxy.loops().get(1).execute(() -> { // loop 1 busy past the server's 1 s wait
                held.countDown();
                try {
                    release.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            try {
                assertTrue(held.await(30, TimeUnit.SECONDS));
                Map<String, PrometheusParser.Family> m = StatsEndpointTest.scrape(stats);
                assertEquals(0, m.get("epollproxy_loop_responding").value("loop", "1"), "loop 1 did not answer this scrape");
                double during = m.get("epollproxy_connections_accepted_total").value("forward", forward);
                assertTrue(during >= before, "accepted_total went from " + before + " down to " + during
                        + " (loop 1 accepted " + onLoop1 + ")");
            } finally {
                release.countDown();
            }
            double after = StatsEndpointTest.metrics(stats).get("epollproxy_connections_accepted_total").value("forward", forward);
            assertTrue(after >= before, "after: " + after);
        }
    }
}
