package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
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
}
