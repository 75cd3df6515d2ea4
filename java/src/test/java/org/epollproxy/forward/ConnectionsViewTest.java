package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicReference;
import org.epollproxy.shim.SockAddr;
import org.epollproxy.stats.StatsServer;
import org.junit.jupiter.api.Test;

/**
 * {@code /connections} through real connections: the proxy's own address toward the backend (as the
 * backend sees it), the idle time, and the forward / client / backend filters.
 */
class ConnectionsViewTest {

    /**
     * /connections once every loop answered: the server waits 1 s for each loop and leaves out the
     * connections of one that did not answer by then ("loops_answered" says so), which a loaded machine does.
     * Asked again until all answer, for at most {@link #ANSWER_MS}.
     */
    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> connections(StatsServer s, String query) throws Exception {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ANSWER_MS);
        while (true) {
            Answer r = get(s, "/connections" + query);
            assertEquals(200, r.status(), r.body());
            Map<String, Object> doc = (Map<String, Object>) JsonParser.parse(r.body());
            int loops = ((Number) doc.get("loops")).intValue();
            int answered = ((Number) doc.get("loops_answered")).intValue();
            if (answered == loops) return (List<Map<String, Object>>) (List<?>) doc.get("connections");
            assertTrue(System.nanoTime() < end, "a loop did not answer for " + ANSWER_MS + " ms: " + r.body());
        }
    }

    record Answer(int status, String body) {}

    /**
     * One GET on a socket of its own, read on this thread until the server closes (it answers
     * "Connection: close"), waiting at most {@link #ANSWER_MS}. The JDK's HttpClient shared with the other
     * stats tests timed out after 20 s here on a loaded machine, while the server answers, or closes a client
     * it has not answered, within its 5 s client timeout: as far as the server's code shows, those 20 s were
     * the client's own threads (a selector thread and an executor) waiting to be run. This client has none.
     */
    static Answer get(StatsServer s, String pathAndQuery) throws Exception {
        try (Socket c = new Socket()) {
            c.connect(new InetSocketAddress("127.0.0.1", s.address().port()), ANSWER_MS);
            c.setSoTimeout(ANSWER_MS);
            c.getOutputStream().write(("GET " + pathAndQuery + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            String all = new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int headEnd = all.indexOf("\r\n\r\n");
            assertTrue(all.startsWith("HTTP/1.1 ") && headEnd > 0, "no answer, or not HTTP, for " + pathAndQuery + ": '" + all + "'");
            return new Answer(Integer.parseInt(all.substring(9, 12)), all.substring(headEnd + 4));
        }
    }

    /** Generous: a loaded machine is slow; a server that does not answer at all still fails the test. */
    private static final int ANSWER_MS = 60_000;

    /** An echo backend that also notes each connection's remote address: the proxy's end. */
    private static TestBackend notingEcho(ConcurrentLinkedQueue<SocketAddress> peers) throws Exception {
        return TestBackend.start(s -> {
            peers.add(s.getRemoteSocketAddress());
            byte[] b = new byte[4096];
            int n;
            while ((n = s.getInputStream().read(b)) > 0) s.getOutputStream().write(b, 0, n);
        });
    }

    private static void echo(Socket c, String text) throws Exception {
        c.getOutputStream().write(text.getBytes());
        assertEquals(text, new String(c.getInputStream().readNBytes(text.length())));
    }

    @Test
    void localIsTheAddressTheBackendSeesAndIdleCountsFromTheLastByte() throws Exception {
        ConcurrentLinkedQueue<SocketAddress> peers = new ConcurrentLinkedQueue<>();
        try (TestBackend backend = notingEcho(peers); TestProxy proxy = new TestProxy(Settings.DEFAULTS, backend.port());
                StatsServer stats = StatsEndpointTest.statsOn(proxy); Socket c = proxy.connect()) {
            echo(c, "ping");
            InetSocketAddress seen = (InetSocketAddress) peers.peek();
            List<Map<String, Object>> conns = connections(stats, "");
            assertEquals(1, conns.size());
            assertEquals("127.0.0.1:" + seen.getPort(), conns.get(0).get("local"), "what the backend logs as its client");

            // Quiet for a while: idle grows with the age. Then one byte each way: idle starts again, the
            // age does not, so the age runs ahead of idle by at least the quiet time.
            AtomicReference<Map<String, Object>> last = new AtomicReference<>();
            TestProxy.await(() -> {
                try {
                    last.set(connections(stats, "").get(0));
                    return (Double) last.get().get("idle_seconds") >= 1.5;
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }, "idle_seconds to reach 1.5 s; last " + last);
            assertTrue((Double) last.get().get("idle_seconds") <= (Double) last.get().get("age_seconds"), last.toString());
            echo(c, "!");
            Map<String, Object> after = connections(stats, "").get(0);
            double lead = (Double) after.get("age_seconds") - (Double) after.get("idle_seconds");
            assertTrue(lead >= 1.5, "a byte moved: idle restarted while the age went on: " + after);
        }
    }

    @Test
    void filtersByForwardClientAndBackend() throws Exception {
        ConcurrentLinkedQueue<SocketAddress> peers = new ConcurrentLinkedQueue<>();
        try (TestBackend b1 = notingEcho(peers); TestBackend b2 = notingEcho(peers);
                TestProxy proxy = new TestProxy(Settings.DEFAULTS, b1.port(), b2.port());
                StatsServer stats = StatsEndpointTest.statsOn(proxy)) {
            List<Socket> open = new ArrayList<>();
            try {
                for (int f = 0; f < 2; f++) {
                    for (int i = 0; i <= f; i++) { // one connection to the first forward, two to the second
                        Socket c = new Socket();
                        c.connect(new InetSocketAddress("127.0.0.1", proxy.port(f)), 5000);
                        c.setSoTimeout(20_000);
                        open.add(c);
                        echo(c, "x");
                    }
                }
                String f0 = "127.0.0.1:" + proxy.port(0);
                String f1 = "127.0.0.1:" + proxy.port(1);
                assertEquals(3, connections(stats, "").size());
                assertEquals(Set.of(f0), forwards(connections(stats, "?forward=" + f0)));
                assertEquals(1, connections(stats, "?forward=" + f0).size());
                assertEquals(2, connections(stats, "?forward=" + f1).size());
                assertEquals(0, connections(stats, "?forward=127.0.0.1:1").size());
                assertEquals(2, connections(stats, "?backend=127.0.0.1:" + b2.port()).size());
                assertEquals(3, connections(stats, "?client=127.0.0.1").size(), "the address without its port");
                String one = "127.0.0.1:" + open.get(2).getLocalPort();
                List<Map<String, Object>> mine = connections(stats, "?client=" + one + "&forward=" + f1);
                assertEquals(1, mine.size());
                assertEquals(one, mine.get(0).get("client"));
                assertEquals(0, connections(stats, "?client=" + one + "&forward=" + f0).size(), "both must match");

                Answer bad = get(stats, "/connections?fwd=x");
                assertEquals(400, bad.status());
                assertEquals("unknown parameter 'fwd'; /connections takes forward=, client= and backend=\n", bad.body());
            } finally {
                for (Socket c : open) c.close();
            }
        }
    }

    /** Requests with different filters that share one round (the loop busy meanwhile) each get their own list. */
    @Test
    void filtersSharingOneRoundEachGetTheirOwnList() throws Exception {
        try (TestBackend b1 = TestBackend.echo(); TestBackend b2 = TestBackend.echo();
                TestProxy proxy = new TestProxy(Settings.DEFAULTS, b1.port(), b2.port());
                StatsServer stats = StatsEndpointTest.statsOn(proxy)) {
            List<Socket> open = new ArrayList<>();
            List<Socket> asking = new ArrayList<>();
            java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
            try {
                for (int f = 0; f < 2; f++) {
                    for (int i = 0; i <= f; i++) { // one connection to the first forward, two to the second
                        Socket c = new Socket();
                        c.connect(new InetSocketAddress("127.0.0.1", proxy.port(f)), 5000);
                        c.setSoTimeout(20_000);
                        open.add(c);
                        echo(c, "x");
                    }
                }
                proxy.proxy.loops().get(0).execute(() -> {
                    held.countDown();
                    try {
                        release.await(60, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                assertTrue(held.await(30, TimeUnit.SECONDS));
                String[] queries = {"?forward=127.0.0.1:" + proxy.port(0), "?forward=127.0.0.1:" + proxy.port(1), ""};
                for (String q : queries) {
                    Socket c = new Socket();
                    c.connect(new InetSocketAddress("127.0.0.1", stats.address().port()), 5000);
                    c.setSoTimeout(ANSWER_MS);
                    asking.add(c);
                    c.getOutputStream().write(("GET /connections" + q + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                }
                release.countDown();
                int[] expected = {1, 2, 3};
                for (int i = 0; i < queries.length; i++) {
                    String all = new String(asking.get(i).getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                    @SuppressWarnings("unchecked")
                    Map<String, Object> doc = (Map<String, Object>) JsonParser.parse(all.substring(all.indexOf("\r\n\r\n") + 4));
                    if (((Number) doc.get("loops_answered")).intValue() == 0) continue; // the round gave up on the held loop: nothing to compare
                    assertEquals(expected[i], ((List<?>) doc.get("connections")).size(), "/connections" + queries[i] + ": " + all);
                }
            } finally {
                release.countDown();
                for (Socket c : asking) c.close();
                for (Socket c : open) c.close();
            }
        }
    }

    private static Set<Object> forwards(List<Map<String, Object>> conns) {
        Set<Object> s = new TreeSet<>();
        for (Map<String, Object> c : conns) s.add(c.get("forward"));
        return s;
    }

    @Test
    void aUdpSessionShowsItsOwnSocketsAddress() throws Exception {
        AtomicReference<SocketAddress> seen = new AtomicReference<>();
        try (DatagramSocket backend = new DatagramSocket(0, InetAddress.getLoopbackAddress());
                DatagramSocket c = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                byte[] b = new byte[2048];
                try {
                    DatagramPacket p = new DatagramPacket(b, b.length);
                    backend.receive(p);
                    seen.set(p.getSocketAddress());
                    backend.send(new DatagramPacket(b, p.getLength(), p.getSocketAddress()));
                } catch (Exception closed) {
                    // the test closed it
                }
            });
            t.setDaemon(true);
            t.start();
            Forward f = new Forward(Forward.Proto.UDP, SockAddr.parse("127.0.0.1", 0), List.of(TestProxy.backend(backend.getLocalPort())),
                    AccessRules.ALLOW_ALL, 600, null, "test");
            try (TestProxy proxy = new TestProxy(Settings.DEFAULTS, List.of(f)); StatsServer stats = StatsEndpointTest.statsOn(proxy)) {
                c.setSoTimeout(10_000);
                c.send(new DatagramPacket("hi".getBytes(), 2, InetAddress.getLoopbackAddress(), proxy.port()));
                c.receive(new DatagramPacket(new byte[16], 16));
                List<Map<String, Object>> conns = connections(stats, "");
                assertEquals(1, conns.size());
                assertEquals("127.0.0.1:" + ((InetSocketAddress) seen.get()).getPort(), conns.get(0).get("local"));
                assertTrue((Double) conns.get(0).get("idle_seconds") >= 0);
            }
        }
    }
}
