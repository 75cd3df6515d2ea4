package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.nio.charset.StandardCharsets;
import org.epollproxy.shim.Shim;
import org.epollproxy.shim.SockAddr;
import org.epollproxy.stats.StatsServer;
import org.junit.jupiter.api.Test;

/**
 * A hostile or merely unusual HTTP client of the stats port: whatever it sends beyond what the server reads
 * (a header past the request limit, a body on a GET, requests pipelined past the limit), the answer reaches
 * it whole, followed by a clean end of stream, never a reset that makes its kernel throw the answer away.
 */
class StatsHostileClientTest {

    /** Writes {@code bytes} on a thread of its own (the server reads only part of them) and returns all that comes back. */
    static String exchange(StatsServer s, byte[] bytes) throws Exception {
        try (Socket c = StatsStallTest.open(s)) {
            OutputStream out = c.getOutputStream();
            Thread writer = new Thread(() -> {
                try {
                    out.write(bytes);
                    out.flush();
                } catch (IOException expected) {
                    // the server answered and stopped reading: what it did not read is of no interest
                }
            }, "hostile-writer");
            writer.setDaemon(true);
            writer.start();
            InputStream in = c.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] b = new byte[8192];
            for (int n; (n = in.read(b)) >= 0; ) got.write(b, 0, n); // a reset throws here, losing the answer
            writer.join(20_000);
            return got.toString(StandardCharsets.UTF_8);
        }
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Test
    void aMegabyteHeaderGets431AndACleanEnd() throws Exception {
        try (TestBackend backend = TestBackend.echo(); TestProxy proxy = new TestProxy(backend.port());
                StatsServer stats = StatsEndpointTest.statsOn(proxy)) {
            byte[] big = ascii("GET /metrics HTTP/1.1\r\nX-Big: " + "a".repeat(1 << 20) + "\r\n\r\n");
            String reply = exchange(stats, big);
            assertTrue(reply.startsWith("HTTP/1.1 431 "), reply);
            assertTrue(reply.endsWith("request too large (over 8192 bytes)\n"), reply);
        }
    }

    @Test
    void aBodyOnAGetDoesNotCostTheAnswer() throws Exception {
        try (TestBackend backend = TestBackend.echo(); TestProxy proxy = new TestProxy(backend.port());
                StatsServer stats = StatsEndpointTest.statsOn(proxy)) {
            byte[] body = new byte[256 * 1024];
            java.util.Arrays.fill(body, (byte) 'b');
            byte[] req = concat(ascii("GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length + "\r\n\r\n"), body);
            String reply = exchange(stats, req);
            assertTrue(reply.startsWith("HTTP/1.1 200 OK\r\n") && reply.endsWith("\r\n\r\nok\n"), reply);
        }
    }

    @Test
    void pipelinedRequestsGetTheFirstAnswerAndACleanEnd() throws Exception {
        try (TestBackend backend = TestBackend.echo(); TestProxy proxy = new TestProxy(backend.port());
                StatsServer stats = StatsEndpointTest.statsOn(proxy)) {
            String one = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
            String reply = exchange(stats, ascii(one.repeat(2000))); // 64 KB of requests, one write
            assertTrue(reply.startsWith("HTTP/1.1 200 OK\r\n") && reply.endsWith("\r\n\r\nok\n"), reply);
            assertTrue(reply.contains("Connection: close\r\n"), "one answer, then the server closes: " + reply);
            assertEquals(reply.indexOf("HTTP/1.1"), reply.lastIndexOf("HTTP/1.1"), "exactly one answer: " + reply);
        }
    }

    @Test
    void anAbsoluteFormRequestIsServedLikeItsPath() throws Exception {
        try (TestBackend backend = TestBackend.echo(); TestProxy proxy = new TestProxy(backend.port());
                StatsServer stats = StatsEndpointTest.statsOn(proxy)) {
            String host = "127.0.0.1:" + stats.address().port();
            String reply = exchange(stats, ascii("GET http://" + host + "/healthz HTTP/1.1\r\nHost: " + host + "\r\n\r\n"));
            assertTrue(reply.startsWith("HTTP/1.1 200 OK\r\n") && reply.endsWith("ok\n"), reply);
            reply = exchange(stats, ascii("GET HTTP://" + host + "/connections?client=10.9.9.9 HTTP/1.1\r\n\r\n"));
            assertTrue(reply.startsWith("HTTP/1.1 200 OK\r\n") && reply.contains("\"connections\": []"), reply);
            reply = exchange(stats, ascii("GET http://" + host + " HTTP/1.1\r\n\r\n")); // no path: the status page
            assertTrue(reply.startsWith("HTTP/1.1 200 OK\r\n") && reply.contains("text/html"), reply);
        }
    }

    /**
     * Clients that ask for a large answer one after the other and never read it: each holds its own copy
     * until the client timeout. Past the server's bound on such bytes, a request needing a new rendering gets
     * 503, while /healthz still answers 200; once the readers go, /connections answers again.
     */
    @Test
    void clientsThatDoNotReadLargeAnswersHoldBoundedMemory() throws Exception {
        int sessions = 1500; // about 300 bytes each in /connections: a 450 KB answer, more than a client's socket takes
        try (DatagramSocket backend = new DatagramSocket(0, InetAddress.getLoopbackAddress());
                TestProxy proxy = new TestProxy(Settings.DEFAULTS, List.of(new Forward(Forward.Proto.UDP,
                        SockAddr.parse("127.0.0.1", 0), List.of(TestProxy.backend(backend.getLocalPort())),
                        AccessRules.ALLOW_ALL, 120, null, "test")));
                StatsServer stats = StatsServer.bind(Shim.load(), SockAddr.parse("127.0.0.1", 0), 20_000, 64 << 10)) {
            stats.start(proxy.proxy);
            List<DatagramSocket> clients = new ArrayList<>();
            List<Socket> readers = new ArrayList<>();
            try {
                for (int i = 0; i < sessions; i++) clients.add(new DatagramSocket(0, InetAddress.getLoopbackAddress()));
                long end = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(TestProxy.AWAIT_S);
                // One UDP session per client port, each an entry of /connections. The listening socket's buffer
                // overflows when 1,500 first datagrams come at once, so the lost ones are sent again (to a session
                // already open, one more datagram is only forwarded).
                while (proxy.onLoop(0, fl -> fl.forwardStats().get(0).active) < sessions) {
                    assertTrue(System.nanoTime() < end, sessions + " sessions did not open in " + TestProxy.AWAIT_S + " s");
                    for (DatagramSocket c : clients) c.send(new DatagramPacket(new byte[1], 1, InetAddress.getLoopbackAddress(), proxy.port()));
                }
                List<String> statuses = new ArrayList<>();
                for (int i = 0; i < 8 && !statuses.contains("503"); i++) {
                    Socket r = new Socket();
                    r.setReceiveBufferSize(4096); // takes little, reads nothing after the status line
                    r.connect(new InetSocketAddress("127.0.0.1", stats.address().port()), 5000);
                    r.setSoTimeout(20_000);
                    readers.add(r);
                    r.getOutputStream().write(ascii("GET /connections HTTP/1.1\r\nHost: x\r\n\r\n"));
                    statuses.add(new String(r.getInputStream().readNBytes(12), StandardCharsets.ISO_8859_1).substring(9));
                }
                assertEquals("200", statuses.get(0), "the first reader gets its answer: " + statuses);
                assertTrue(statuses.contains("503"), "readers that never read each got a rendering of their own: " + statuses);
                String probe = StatsStallTest.get(stats, "/healthz");
                assertTrue(probe.startsWith("HTTP/1.1 200 OK\r\n") && probe.endsWith("ok\n"), probe);
                for (Socket r : readers) r.close();
                readers.clear();
                TestProxy.await(() -> {
                    try {
                        return StatsStallTest.get(stats, "/connections").startsWith("HTTP/1.1 200 ");
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                }, "/connections answered again once the readers went");
            } finally {
                for (Socket r : readers) r.close();
                for (DatagramSocket c : clients) c.close();
            }
        }
    }

    /**
     * More idle connections than the server has slots (1,024 and 64 for probes), with a client timeout long
     * enough that none is cut meanwhile: a probe connecting after them is still answered, the oldest idle
     * connection making room for it, instead of waiting in the listen backlog until the idle ones time out.
     */
    @Test
    void aProbeIsAnsweredWhileIdleConnectionsHoldEverySlot() throws Exception {
        try (TestBackend backend = TestBackend.echo(); TestProxy proxy = new TestProxy(backend.port());
                StatsServer stats = StatsServer.bind(Shim.load(), SockAddr.parse("127.0.0.1", 0), 600_000)) {
            stats.start(proxy.proxy);
            List<Socket> idle = new ArrayList<>();
            try {
                for (int i = 0; i < 1100; i++) idle.add(StatsStallTest.open(stats)); // send nothing, ever
                String reply = StatsStallTest.get(stats, "/healthz"); // reads for up to 20 s; the idle ones are cut after 10 min
                assertTrue(reply.startsWith("HTTP/1.1 200 OK\r\n") && reply.endsWith("ok\n"), reply);
                String busy = StatsStallTest.get(stats, "/metrics"); // on a slot for probes only
                assertTrue(busy.startsWith("HTTP/1.1 503 ") && busy.contains("only /healthz and /livez"), busy);
            } finally {
                for (Socket c : idle) c.close();
            }
        }
    }
}
