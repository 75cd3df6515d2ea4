package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.epollproxy.shim.Shim;
import org.epollproxy.shim.SockAddr;
import org.epollproxy.stats.LoopSnapshot;
import org.epollproxy.stats.StatsServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * The stats endpoint cannot be stalled: idle and slow clients are cut after the client timeout and
 * delay nobody meanwhile, a thousand scrapes at once are all answered, and /metrics lists no connection
 * one by one. (On the JDK HttpServer one client sending "G" and waiting stalled every probe.)
 */
@Isolated("bounds /healthz latency at 1 s")
class StatsStallTest {

    static Socket open(StatsServer s) throws Exception {
        Socket c = new Socket();
        c.connect(new InetSocketAddress("127.0.0.1", s.address().port()), 5000);
        c.setSoTimeout(20_000);
        return c;
    }

    /** One raw GET: the whole reply (the server closes after answering). */
    static String get(StatsServer s, String path) throws Exception {
        try (Socket c = open(s)) {
            c.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            return new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void healthzAnswersFastWhileAHundredClientsHangOn() throws Exception {
        try (TestBackend backend = TestBackend.echo(); TestProxy proxy = new TestProxy(ThreadsTest.twoLoops(), backend.port());
                StatsServer stats = StatsEndpointTest.statsOn(proxy)) {
            List<Socket> idle = new ArrayList<>();
            try {
                for (int i = 0; i < 100; i++) {
                    Socket c = open(stats);
                    if (i % 2 == 0) c.getOutputStream().write('G'); // half send one byte, half nothing
                    idle.add(c);
                }
                for (int i = 0; i < 10; i++) {
                    long t0 = System.nanoTime();
                    String reply = get(stats, "/healthz");
                    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                    assertTrue(reply.startsWith("HTTP/1.1 200 OK\r\n") && reply.endsWith("\r\n\r\nok\n"), reply);
                    assertTrue(ms < 1000, "/healthz took " + ms + " ms with 100 idle clients connected");
                }
            } finally {
                for (Socket c : idle) c.close();
            }
        }
    }

    @Test
    void aThousandConcurrentScrapesAreAllAnswered() throws Exception {
        try (TestBackend backend = TestBackend.echo(); TestProxy proxy = new TestProxy(ThreadsTest.twoLoops(), backend.port());
                StatsServer stats = StatsEndpointTest.statsOn(proxy)) {
            long t0 = System.nanoTime();
            List<Socket> scrapes = new ArrayList<>();
            try {
                for (int i = 0; i < 1000; i++) scrapes.add(open(stats)); // all connected before any is read
                byte[] req = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
                for (Socket c : scrapes) c.getOutputStream().write(req);
                int answered = 0;
                for (Socket c : scrapes) {
                    String reply = new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                    if (reply.startsWith("HTTP/1.1 200 OK\r\n") && reply.contains("epollproxy_loop_responding{loop=\"1\"} 1")) answered++;
                }
                assertEquals(1000, answered);
            } finally {
                for (Socket c : scrapes) c.close();
            }
            long s = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
            assertTrue(s < 20, "1,000 scrapes took " + s + " s");
        }
    }

    @Test
    void aSlowClientIsCutAfterTheClientTimeoutAndOthersAreServedMeanwhile() throws Exception {
        try (TestBackend backend = TestBackend.echo(); TestProxy proxy = new TestProxy(backend.port());
                StatsServer stats = StatsServer.bind(Shim.load(), SockAddr.parse("127.0.0.1", 0), 300)) {
            stats.start(proxy.proxy);
            try (Socket slow = open(stats)) {
                long t0 = System.nanoTime();
                slow.getOutputStream().write("GET /hea".getBytes(StandardCharsets.US_ASCII)); // and never the rest
                assertTrue(get(stats, "/healthz").endsWith("ok\n"), "served while the slow client waits");
                InputStream in = slow.getInputStream();
                int r;
                try {
                    r = in.read();
                } catch (java.net.SocketException reset) {
                    r = -1;
                }
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                assertEquals(-1, r, "closed without an answer");
                assertTrue(ms >= 250 && ms < 5000, "cut after " + ms + " ms with a 300 ms client timeout");
            }
        }
    }

    @Test
    void metricsCountOpenConnectionsWithoutListingThem() throws Exception {
        try (TestBackend backend = TestBackend.echo(); TestProxy proxy = new TestProxy(backend.port());
                StatsServer stats = StatsEndpointTest.statsOn(proxy)) {
            List<Socket> open = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    Socket c = proxy.connect();
                    c.getOutputStream().write('x');
                    assertEquals('x', c.getInputStream().read());
                    open.add(c);
                }
                LoopSnapshot counters = proxy.onLoop(0, fl -> LoopSnapshot.take(fl, false));
                assertEquals(3, counters.openConnections());
                assertEquals(0, counters.connections().size(), "no object per connection for /metrics");
                assertEquals(3, proxy.onLoop(0, fl -> LoopSnapshot.take(fl, true)).connections().size());
                Map<String, PrometheusParser.Family> m = StatsEndpointTest.metrics(stats);
                assertEquals(3, m.get("epollproxy_loop_connections_open").value("loop", "0"));
            } finally {
                for (Socket c : open) c.close();
            }
        }
    }

    @Test
    void healthzSaysWhichLoopDied() throws Exception {
        AtomicBoolean armed = new AtomicBoolean();
        try (TestBackend backend = TestBackend.echo();
                TestProxy proxy = new TestProxy(LoopDeathTest.faulty((name, args) -> {
                    if (name.equals("accept") && armed.compareAndSet(true, false)) throw new OutOfMemoryError("injected");
                    return null;
                }), Settings.DEFAULTS, backend.port());
                StatsServer stats = StatsEndpointTest.statsOn(proxy)) {
            assertTrue(get(stats, "/healthz").endsWith("ok\n"));
            armed.set(true);
            try (Socket c = proxy.connect()) {
                assertTrue(proxy.proxy.awaitStopped(10, TimeUnit.SECONDS));
            } catch (java.io.IOException reset) {
                assertTrue(proxy.proxy.awaitStopped(10, TimeUnit.SECONDS));
            }
            String reply = get(stats, "/healthz");
            assertTrue(reply.startsWith("HTTP/1.1 503") && reply.contains("loop 0 died: java.lang.OutOfMemoryError: injected"), reply);
        }
    }
}
