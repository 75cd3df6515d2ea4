package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.epollproxy.shim.SockAddr;
import org.junit.jupiter.api.Test;

/**
 * --accept-proxy over real sockets: the header arrives in pieces (each piece seen by the proxy before the
 * next is sent), the announced client is the client everywhere, and every bad header (garbage, truncated,
 * silent) is closed, counted and never forwarded.
 */
class AcceptProxyTest {
    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    static Forward accepting(int backendPort, ProxyProtocol send, AccessRules rules) {
        return new Forward(Forward.Proto.TCP, SockAddr.parse("127.0.0.1", 0), List.of(TestProxy.backend(backendPort)), rules, -1, null,
                "test", send, true);
    }

    /** Bytes of the header the proxy holds for its one connection still reading a header (-1: none). */
    static int headerBytesHeld(TestProxy proxy) throws Exception {
        return proxy.onLoop(0, fl -> {
            for (int i = 0; i < fl.openConnections(); i++) {
                ConnectionInfo ci = fl.connectionAt(i).info(fl.loop());
                if (ci.state().equals("proxy-header")) return ci.bufferedUp();
            }
            return -1;
        });
    }

    /** The proxy closed the connection without a byte: EOF, or RST when it left the rest of the garbage unread. */
    static void assertClosed(Socket c) throws IOException {
        try {
            assertEquals(-1, c.getInputStream().read(), "closed without a byte");
        } catch (java.net.SocketException e) {
            assertEquals("Connection reset", e.getMessage());
        }
    }

    @Test
    void aV1HeaderInThreePiecesNamesTheClientInTheLogAndInTheV2HeaderSentOn() throws Exception {
        CompletableFuture<ProxyHeaderParser.Header> seen = new CompletableFuture<>();
        try (TestBackend backend = TestBackend.start(s -> {
                    InputStream in = s.getInputStream();
                    seen.complete(ProxyHeaderParser.read(in));
                    s.getOutputStream().write(in.readAllBytes());
                });
                TestProxy proxy = new TestProxy(Settings.DEFAULTS, List.of(accepting(backend.port(), ProxyProtocol.V2, AccessRules.ALLOW_ALL)));
                Socket c = proxy.connect()) {
            c.setTcpNoDelay(true);
            OutputStream out = c.getOutputStream();
            String header = "PROXY TCP4 203.0.113.9 192.0.2.1 5555 443\r\n";
            int[] cuts = {3, 20, header.length()};
            int from = 0;
            for (int cut : cuts) {
                if (cut == header.length()) break;
                out.write(ascii(header.substring(from, cut)));
                int held = cut;
                TestProxy.await(() -> {
                    try {
                        return headerBytesHeld(proxy) == held;
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                }, "the proxy holding " + held + " header bytes");
                from = cut;
            }
            out.write(ascii(header.substring(from) + "hello")); // the rest of the line and client bytes together
            c.shutdownOutput();
            assertArrayEquals(ascii("hello"), c.getInputStream().readAllBytes());
            ProxyHeaderParser.Header h = seen.get(10, TimeUnit.SECONDS);
            assertEquals(InetAddress.getByName("203.0.113.9"), h.src());
            assertEquals(5555, h.srcPort());
            assertEquals(InetAddress.getByName("192.0.2.1"), h.dst());
            assertEquals(443, h.dstPort());
            proxy.awaitLog("tcp client=203.0.113.9:5555 listen=127.0.0.1:" + proxy.port() + " backend=127.0.0.1:" + backend.port() + " up=5 down=5");
        }
    }

    /**
     * Every bad header is refused on the parser's verdict, at once: the header deadline is a minute here, so
     * no close can come from it, and each connection is watched until either its bad-proxy-header end is
     * counted or the proxy holds all its bytes waiting for more (a verdict of "need more": a check that
     * was switched off). Then the log line must give that header's own reason.
     */
    @Test
    void garbageAndTruncatedHeadersAreRefusedOnTheVerdictCountedAndNeverForwarded() throws Exception {
        Settings st = Settings.builder().proxyHeaderTimeoutMs(60_000).build();
        try (TestBackend backend = TestBackend.echo();
                TestProxy proxy = new TestProxy(st, List.of(accepting(backend.port(), ProxyProtocol.OFF, AccessRules.ALLOW_ALL)))) {
            byte[][] bad = {
                ascii("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
                ascii("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\nrest"), // LF without CR
                ascii("PROXZ TCP4"),
                {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0B}, // bad v2 signature
                {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x11, 0x7f, (byte) 0xff}, // v2 length over the bound
            };
            String[] why = {
                "why=\"not a PROXY protocol header (first byte 0x47)\"",
                "why=\"v1 header holds byte 0xa\"",
                "why=\"v1 header does not start with \\\"PROXY \\\"\"", // quotes escaped: one field
                "why=\"bad v2 signature\"",
                "why=\"v2 header of 32783 bytes; the limit is 2048\"",
            };
            for (int i = 0; i < bad.length; i++) {
                long refused = i + 1;
                int len = bad[i].length;
                try (Socket c = proxy.connect()) {
                    c.getOutputStream().write(bad[i]);
                    TestProxy.await(() -> {
                        try {
                            return endsBadHeader(proxy) == refused || headerBytesHeld(proxy) == len;
                        } catch (Exception e) {
                            throw new AssertionError(e);
                        }
                    }, "a verdict on " + why[i]);
                    assertEquals(refused, endsBadHeader(proxy), "refused at once, not held waiting for more bytes: " + why[i]);
                    assertClosed(c);
                }
                String expected = why[i];
                TestProxy.await(() -> proxy.log().contains(expected), expected + " in:\n" + proxy.log());
            }
            try (Socket c = proxy.connect()) { // truncated: half a header, then FIN
                c.getOutputStream().write(ascii("PROXY TCP4 1.2.3.4 "));
                c.shutdownOutput();
                assertEquals(-1, c.getInputStream().read());
            }
            proxy.awaitLog("why=\"the client closed after 19 bytes, before a complete header\"");
            assertEquals(6, endsBadHeader(proxy));
            assertEquals(6, proxy.log().split("end=bad-proxy-header", -1).length - 1, proxy.log());
            assertEquals(0, backend.accepted.get(), "nothing reached the backend");
        }
    }

    @Test
    void aSilentClientIsClosedAtTheHeaderDeadline() throws Exception {
        Settings st = Settings.builder().proxyHeaderTimeoutMs(300).build();
        try (TestBackend backend = TestBackend.echo();
                TestProxy proxy = new TestProxy(st, List.of(accepting(backend.port(), ProxyProtocol.OFF, AccessRules.ALLOW_ALL)))) {
            long start = System.nanoTime();
            try (Socket c = proxy.connect()) {
                assertEquals(-1, c.getInputStream().read());
            }
            long ms = (System.nanoTime() - start) / 1_000_000;
            proxy.awaitLog("why=\"no complete header within 300 ms (0 bytes came)\"");
            assertEquals(1, endsBadHeader(proxy));
            assertEquals(0, backend.accepted.get(), "nothing reached the backend");
            assertEquals(true, ms >= 250, "the silent client was held until the deadline, not " + ms + " ms");
        }
    }

    /**
     * A v2 header dripped a byte at a time is still closed at the deadline counted from the accept: bytes that
     * keep coming do not push it back (else one byte per interval would hold a connection for ever).
     */
    @Test
    void aHeaderDrippedAByteAtATimeIsClosedAtTheDeadlineFromTheAccept() throws Exception {
        Settings st = Settings.builder().proxyHeaderTimeoutMs(500).build();
        byte[] header = new byte[16 + 100]; // signature, PROXY over IPv4, 100 bytes of addresses and padding
        System.arraycopy(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x11, 0, 100}, 0, header, 0, 16);
        try (TestBackend backend = TestBackend.echo();
                TestProxy proxy = new TestProxy(st, List.of(accepting(backend.port(), ProxyProtocol.OFF, AccessRules.ALLOW_ALL)));
                Socket c = proxy.connect()) {
            boolean cut = false;
            for (int i = 0; i < header.length && !cut; i++) { // 116 bytes, 50 ms apart: far longer than the deadline
                try {
                    c.getOutputStream().write(header[i]);
                    c.getOutputStream().flush();
                    Thread.sleep(50); // the drip's pace, not a wait for the proxy
                } catch (IOException closed) {
                    cut = true;
                }
            }
            assertEquals(true, cut, "closed before the header was whole");
            proxy.awaitLog("why=\"no complete header within 500 ms (");
            assertEquals(false, proxy.log().contains("(0 bytes came)"), proxy.log());
            assertEquals(1, endsBadHeader(proxy));
            assertEquals(0, backend.accepted.get());
        }
    }

    static long endsBadHeader(TestProxy proxy) throws Exception {
        return proxy.stats(0).ends[EndReason.BAD_PROXY_HEADER.ordinal()];
    }

    @Test
    void theAnnouncedAddressIsWhatTheAccessRulesSeeAndLocalKeepsTheConnectionsOwn() throws Exception {
        AccessRules denyDocNet = new AccessRules(List.of(), List.of("203.0.113.0/24"), List.of(), List.of());
        try (TestBackend backend = TestBackend.echo();
                TestProxy proxy = new TestProxy(Settings.DEFAULTS, List.of(accepting(backend.port(), ProxyProtocol.OFF, denyDocNet)))) {
            try (Socket c = proxy.connect()) {
                c.getOutputStream().write(ascii("PROXY TCP4 203.0.113.50 192.0.2.1 7000 443\r\n"));
                assertEquals(-1, c.getInputStream().read());
            }
            proxy.awaitLog("tcp client=203.0.113.50:7000 listen=127.0.0.1:" + proxy.port() + " backend=- up=0 down=0 ms=0 end=denied");
            try (Socket c = proxy.connect()) { // a health check: LOCAL, served with the connection's own address
                c.getOutputStream().write(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x20, 0x00, 0, 0, 'o', 'k'});
                c.shutdownOutput();
                assertArrayEquals(ascii("ok"), c.getInputStream().readAllBytes());
                proxy.awaitLog("tcp client=127.0.0.1:" + c.getLocalPort() + " listen=");
            }
        }
    }

    @Test
    void aChainOfTwoProxiesKeepsTheRealClient() throws Exception {
        CompletableFuture<ProxyHeaderParser.Header> seen = new CompletableFuture<>();
        try (TestBackend backend = TestBackend.start(s -> {
                    InputStream in = s.getInputStream();
                    seen.complete(ProxyHeaderParser.read(in));
                    s.getOutputStream().write(in.readAllBytes());
                });
                TestProxy inner = new TestProxy(Settings.DEFAULTS, List.of(accepting(backend.port(), ProxyProtocol.V1, AccessRules.ALLOW_ALL)));
                TestProxy outer = new TestProxy(Settings.DEFAULTS, List.of(new Forward(SockAddr.parse("127.0.0.1", 0),
                        List.of(TestProxy.backend(inner.port()))).withSendProxy(ProxyProtocol.V2)));
                Socket c = outer.connect()) {
            c.getOutputStream().write(ascii("through two"));
            c.shutdownOutput();
            assertArrayEquals(ascii("through two"), c.getInputStream().readAllBytes());
            ProxyHeaderParser.Header h = seen.get(10, TimeUnit.SECONDS);
            assertEquals(c.getLocalPort(), h.srcPort(), "the backend sees the real client's port, not the outer proxy's");
            assertEquals(outer.port(), h.dstPort(), "and the address it connected to");
            inner.awaitLog("tcp client=127.0.0.1:" + c.getLocalPort() + " listen=127.0.0.1:" + inner.port());
        } catch (IOException e) {
            throw e;
        }
    }
}
