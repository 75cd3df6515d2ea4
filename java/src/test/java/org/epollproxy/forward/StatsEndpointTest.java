package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.epollproxy.shim.SockAddr;
import org.epollproxy.stats.StatsServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code --stats}: /metrics parses as Prometheus text, /connections as JSON, /healthz tells a stuck loop. */
class StatsEndpointTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    static HttpResponse<String> get(StatsServer s, String path) throws Exception {
        return send(s, path, "GET");
    }

    static HttpResponse<String> send(StatsServer s, String path, String method) throws Exception {
        URI uri = URI.create("http://" + s.address() + path);
        HttpRequest req = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20))
                .method(method, HttpRequest.BodyPublishers.noBody()).build();
        return HTTP.send(req, HttpResponse.BodyHandlers.ofString());
    }

    /**
     * A scrape in which every loop answered. The server leaves out a loop that does not answer within 1 s
     * (its {@code epollproxy_loop_responding} says 0, and its series are missing): on a loaded machine that
     * happens, and a test that reads one scrape then finds no sample at all. So it asks again, for up to
     * {@link TestProxy#AWAIT_S} s.
     */
    static Map<String, PrometheusParser.Family> metrics(StatsServer s) throws Exception {
        long end = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(TestProxy.AWAIT_S);
        while (true) {
            Map<String, PrometheusParser.Family> m = scrape(s);
            PrometheusParser.Family responding = m.get("epollproxy_loop_responding");
            if (responding == null || responding.samples.stream().allMatch(x -> x.value() == 1)) return m;
            if (System.nanoTime() > end) throw new AssertionError("a loop did not answer /metrics for " + TestProxy.AWAIT_S + " s");
        }
    }

    /** One scrape, whatever the loops answered. */
    static Map<String, PrometheusParser.Family> scrape(StatsServer s) throws Exception {
        HttpResponse<String> r = get(s, "/metrics");
        assertEquals(200, r.statusCode());
        assertEquals("text/plain; version=0.0.4; charset=utf-8", r.headers().firstValue("Content-Type").orElse(""));
        return PrometheusParser.parse(r.body());
    }

    static StatsServer statsOn(TestProxy proxy) throws Exception {
        StatsServer s = StatsServer.bind(SockAddr.parse("127.0.0.1", 0));
        s.start(proxy.proxy);
        return s;
    }

    @Test
    void metricsAreStrictPrometheusTextAndCountWhatWasForwarded() throws Exception {
        Settings st = ThreadsTest.twoLoops();
        try (TestBackend backend = TestBackend.echo(); TestProxy proxy = new TestProxy(st, backend.port());
                StatsServer stats = statsOn(proxy)) {
            int connections = 8;
            for (int i = 0; i < connections; i++) ThreadsTest.echoOnce(proxy, i);
            TestProxy.await(() -> proxy.proxy.openConnections() == 0, "every pair closed");
            long bytesEachWay = 0;
            for (int i = 0; i < connections; i++) bytesEachWay += ("hello " + i).length();

            Map<String, PrometheusParser.Family> m = metrics(stats);
            for (PrometheusParser.Family f : m.values()) {
                assertTrue(f.name.startsWith("epollproxy_") || f.name.startsWith("process_"), f.name);
                assertTrue(f.help != null && !f.help.isEmpty(), "HELP for " + f.name);
                assertTrue(f.type.equals("counter") == f.name.endsWith("_total"), f.name + " is a " + f.type);
            }
            String fwd = "127.0.0.1:" + proxy.port();
            assertEquals(connections, m.get("epollproxy_connections_accepted_total").value("forward", fwd));
            assertEquals(0, m.get("epollproxy_connections_active").value("forward", fwd));
            assertEquals(connections, m.get("epollproxy_connections_closed_total").value("forward", fwd, "reason", "client-closed"));
            assertEquals(0, m.get("epollproxy_connections_closed_total").value("forward", fwd, "reason", "backend-reset"));
            PrometheusParser.Family bytes = m.get("epollproxy_forwarded_bytes_total");
            assertEquals(bytesEachWay, bytes.value("forward", fwd, "direction", "up", "path", "copy"));
            assertEquals(bytesEachWay, bytes.value("forward", fwd, "direction", "down", "path", "copy"));
            assertEquals(0, bytes.sum("path", "splice"));
            for (String loop : List.of("0", "1")) {
                assertEquals(1, m.get("epollproxy_loop_responding").value("loop", loop));
                assertTrue(m.get("epollproxy_loop_epoll_wait_calls_total").value("loop", loop) > 0);
                assertTrue(m.get("epollproxy_loop_events_total").value("loop", loop) > 0);
                assertTrue(m.get("epollproxy_loop_epoll_ctl_calls_total").value("loop", loop, "op", "add") > 0);
                m.get("epollproxy_loop_eagain_total").value("loop", loop, "op", "recv"); // present
                m.get("epollproxy_loop_speculative_io_total").value("loop", loop, "op", "send", "result", "miss"); // present
            }
            // The clients' requests were read at accept (each client writes right after connecting, so most are there)
            // or not; either way every client's read at accept was counted once.
            PrometheusParser.Family spec = m.get("epollproxy_loop_speculative_io_total");
            assertTrue(spec.sum("op", "recv") > 0, "the reads at accept are counted");
            assertEquals(2, m.get("epollproxy_loop_events_total").samples.size(), "one series per loop");
        }
    }

    @Test
    void splicedBytesShowUpAsPathSpliceWhileTheConnectionIsStillOpen() throws Exception {
        Settings st = SpliceTest.splicing();
        try (TestBackend backend = TestBackend.echo(); TestProxy proxy = new TestProxy(st, backend.port());
                StatsServer stats = statsOn(proxy); Socket c = proxy.connect()) {
            byte[] data = new byte[300_000];
            c.getOutputStream().write(data);
            assertEquals(data.length, c.getInputStream().readNBytes(data.length).length);
            Map<String, PrometheusParser.Family> m = metrics(stats);
            String fwd = "127.0.0.1:" + proxy.port();
            assertEquals(1, m.get("epollproxy_connections_active").value("forward", fwd));
            PrometheusParser.Family bytes = m.get("epollproxy_forwarded_bytes_total");
            // --splice copies until a recv fills the buffer, then splices: both paths add up to the bytes sent.
            for (String direction : List.of("up", "down")) {
                double spliced = bytes.value("forward", fwd, "direction", direction, "path", "splice");
                assertTrue(spliced > 0, direction + ": nothing spliced"); // how much: SpliceTest's 32 MiB
                assertEquals(data.length, spliced + bytes.value("forward", fwd, "direction", direction, "path", "copy"), direction);
            }
        }
    }

    /** On epoll OUT is registered; on io_uring the kernel holds the send, and /connections shows it as OUT too. */
    @ParameterizedTest(name = "io_uring {0}")
    @ValueSource(booleans = {false, true})
    @SuppressWarnings("unchecked")
    void connectionsShowOutRegisteredOnTheClientWhileItReadsSlowly(boolean ioUring) throws Exception {
        if (ioUring) org.epollproxy.shim.Rings.assumeAllowed();
        CountDownLatch done = new CountDownLatch(1);
        try (TestBackend backend = TestBackend.start(s -> {
                    try {
                        s.getOutputStream().write(new byte[16 << 20]); // far more than socket buffers hold
                    } catch (java.io.IOException closed) {
                        // the test ends by closing the client
                    }
                    done.await(30, TimeUnit.SECONDS);
                });
                TestProxy proxy = new TestProxy(Settings.builder().ioUring(ioUring).build(), backend.port());
                StatsServer stats = statsOn(proxy); Socket c = proxy.connect()) {
            AtomicReference<Map<String, Object>> seen = new AtomicReference<>();
            AtomicReference<String> last = new AtomicReference<>();
            TestProxy.await(() -> {
                try {
                    HttpResponse<String> r = get(stats, "/connections");
                    last.set(r.body());
                    Map<String, Object> doc = (Map<String, Object>) JsonParser.parse(r.body());
                    List<Object> conns = (List<Object>) doc.get("connections");
                    if (conns.size() != 1) return false;
                    Map<String, Object> one = (Map<String, Object>) conns.get(0);
                    seen.set(one);
                    return ((String) one.get("client_interest")).contains("OUT");
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }, "OUT on the client's socket in /connections; last answer:\n" + last);
            Map<String, Object> one = seen.get();
            assertEquals("127.0.0.1:" + c.getLocalPort(), one.get("client"));
            assertEquals("127.0.0.1:" + backend.port(), one.get("backend"));
            assertEquals("127.0.0.1:" + proxy.port(), one.get("forward"));
            assertEquals("open", one.get("state"));
            assertEquals("IN|OUT", one.get("client_interest"), "reading the client, waiting for room to write to it");
            assertEquals("none", one.get("backend_interest"), "not reading the backend: backpressure");
            assertTrue((Double) one.get("buffered_down") > 0, "bytes wait for the client: " + one);
            assertEquals(0.0, one.get("buffered_up"));
            assertTrue((Double) one.get("bytes_down") > 0);
            assertTrue((Double) one.get("age_seconds") >= 0);
            assertEquals("copy", one.get("path"));
            done.countDown();
        }
    }

    @Test
    void healthzIsOkUntilALoopStopsAnswering() throws Exception {
        try (TestBackend backend = TestBackend.echo(); TestProxy proxy = new TestProxy(ThreadsTest.twoLoops(), backend.port());
                StatsServer stats = statsOn(proxy)) {
            // Each loop must answer within a second: a loaded machine can miss that once, so wait for "ok".
            AtomicReference<HttpResponse<String>> ok = new AtomicReference<>();
            TestProxy.await(() -> {
                try {
                    ok.set(get(stats, "/healthz"));
                    return ok.get().statusCode() == 200;
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }, "/healthz 200 with both loops running");
            assertEquals("ok\n", ok.get().body());
            CountDownLatch stuck = new CountDownLatch(1);
            proxy.proxy.loops().get(1).execute(() -> {
                try {
                    stuck.await(30, TimeUnit.SECONDS); // a loop wedged in a handler
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            try {
                HttpResponse<String> bad = get(stats, "/healthz");
                assertEquals(503, bad.statusCode());
                // Loop 0 runs but, on a loaded machine, may miss its second too: ask until it alone is named.
                TestProxy.await(() -> {
                    try {
                        return get(stats, "/healthz").body().equals("loop 1 did not answer within 1000 ms\n");
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                }, "/healthz naming loop 1 alone");
                AtomicReference<Map<String, PrometheusParser.Family>> answer = new AtomicReference<>();
                TestProxy.await(() -> {
                    try {
                        answer.set(scrape(stats));
                        return answer.get().get("epollproxy_loop_responding").value("loop", "0") == 1;
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                }, "loop 0 answering /metrics while loop 1 is stuck");
                Map<String, PrometheusParser.Family> m = answer.get();
                assertEquals(1, m.get("epollproxy_loop_responding").value("loop", "0"));
                assertEquals(0, m.get("epollproxy_loop_responding").value("loop", "1"));
                assertFalse(m.get("epollproxy_loop_epoll_wait_calls_total").samples.stream()
                        .anyMatch(s -> s.labels().get("loop").equals("1")), "no stale numbers for loop 1");
            } finally {
                stuck.countDown();
            }
            TestProxy.await(() -> {
                try {
                    return get(stats, "/healthz").statusCode() == 200;
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }, "healthy again");
        }
    }

    @Test
    void otherPathsAndMethodsAreRefused() throws Exception {
        try (TestBackend backend = TestBackend.echo(); TestProxy proxy = new TestProxy(backend.port());
                StatsServer stats = statsOn(proxy)) {
            assertEquals(404, get(stats, "/metricsx").statusCode());
            HttpResponse<String> post = send(stats, "/metrics", "POST");
            assertEquals(405, post.statusCode());
            assertEquals("GET, HEAD", post.headers().firstValue("Allow").orElse(""));
            assertEquals("", send(stats, "/healthz", "HEAD").body());
        }
    }

    @Test
    void theParsersRejectWhatAScraperWould() {
        for (String bad : List.of(
                "# TYPE a counter\na_total 1\n", // sample name is not the family's TYPE'd name: no TYPE for a_total
                "# TYPE a gauge\na{x=\"1\"} 1\na{x=\"1\"} 2\n",
                "# TYPE a gauge\na{x=\"\\q\"} 1\n",
                "# TYPE a gauge\na 1",
                "# TYPE a gauge\na one\n",
                "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na 2\n")) {
            assertThrows(PrometheusParser.ParseException.class, () -> PrometheusParser.parse(bad), bad);
        }
        for (String bad : List.of("{\"a\": 1,}", "[1 2]", "{\"a\": \"\\x\"}", "{} x", "[01]")) {
            assertThrows(IllegalArgumentException.class, () -> JsonParser.parse(bad), bad);
        }
    }
}
