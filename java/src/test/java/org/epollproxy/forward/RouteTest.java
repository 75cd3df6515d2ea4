package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.epollproxy.forward.preread.Hellos;
import org.epollproxy.shim.SockAddr;
import org.junit.jupiter.api.Test;

/**
 * Routes over real sockets and the real loop: the first bytes choose the backend group, reach it first and
 * intact (one byte at a time, behind a PROXY header, through splice), and every client that cannot be
 * routed is closed with its own reason, logged and counted, without a byte reaching any backend.
 */
class RouteTest {
    static final PrereadLimits FAST = new PrereadLimits(16 * 1024, 10_000, 300);

    /** A listener on 127.0.0.1:0 with the default backend {@code def} (-1: none) and routes "match", port, ... */
    static Forward listener(int def, PrereadLimits limits, ProxyProtocol send, boolean acceptProxy, Object... routes) {
        List<Backend> own = def < 0 ? List.of() : List.of(TestProxy.backend(def));
        Forward probe = new Forward(Forward.Proto.TCP, SockAddr.parse("127.0.0.1", 0), List.of(TestProxy.backend(1)), AccessRules.ALLOW_ALL,
                -1, null, "test", send, Balancing.DEFAULT, acceptProxy);
        List<Route> rs = new ArrayList<>();
        for (int i = 0; i < routes.length; i += 2) {
            String m = (String) routes[i];
            rs.add(new Route(m, probe.routeTarget(m, List.of(TestProxy.backend((Integer) routes[i + 1])), Balancing.DEFAULT, null, "route " + m)));
        }
        if (own.isEmpty()) {
            return new Forward(Forward.Proto.TCP, SockAddr.parse("127.0.0.1", 0), List.of(TestProxy.backend(1)), AccessRules.ALLOW_ALL,
                    -1, null, "test", send, Balancing.DEFAULT, acceptProxy).withRoutes(rs, limits).withoutBackends();
        }
        return new Forward(Forward.Proto.TCP, SockAddr.parse("127.0.0.1", 0), own, AccessRules.ALLOW_ALL, -1, null, "test", send,
                Balancing.DEFAULT, acceptProxy).withRoutes(rs, limits);
    }

    /**
     * Sends {@code first}, then FIN; returns every byte that came back (none if the proxy reset the
     * connection: it closes a client it refuses with some of its bytes unread, and the kernel then sends RST).
     */
    static byte[] exchange(TestProxy proxy, byte[] first) throws Exception {
        try (Socket c = proxy.connect()) {
            try {
                c.getOutputStream().write(first);
                c.shutdownOutput();
                return c.getInputStream().readAllBytes();
            } catch (java.net.SocketException e) {
                assertTrue(e.getMessage().contains("reset") || e.getMessage().contains("Broken pipe"), e.toString());
                return new byte[0];
            }
        }
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void eachNameReachesItsOwnBackendWithTheHelloIntactAndOthersTheDefault() throws Exception {
        try (TestBackend a = TestBackend.echo(); TestBackend wild = TestBackend.echo(); TestBackend def = TestBackend.echo();
                TestBackend h2 = TestBackend.echo();
                TestProxy proxy = new TestProxy(Settings.DEFAULTS, List.of(listener(def.port(), FAST, ProxyProtocol.OFF, false,
                        "sni:a.example", a.port(), "sni:*.wild.example", wild.port(), "alpn:h2", h2.port())))) {
            byte[] helloA = Hellos.browser("A.Example", "http/1.1");
            assertArrayEquals(helloA, exchange(proxy, helloA), "the hello reached the backend intact and came back");
            byte[] deep = Hellos.browser("x.y.wild.example", "http/1.1");
            assertArrayEquals(deep, exchange(proxy, deep));
            assertArrayEquals(Hellos.browser("wild.example"), exchange(proxy, Hellos.browser("wild.example")), "not the domain itself");
            assertArrayEquals(Hellos.browser("other.example", "h2"), exchange(proxy, Hellos.browser("other.example", "h2")));
            assertArrayEquals(ascii("GET / HTTP/1.1\r\n\r\n"), exchange(proxy, ascii("GET / HTTP/1.1\r\n\r\n")));
            assertEquals(1, a.accepted.get());
            assertEquals(1, wild.accepted.get(), "*.wild.example matches two labels, and not wild.example");
            assertEquals(1, h2.accepted.get());
            assertEquals(2, def.accepted.get(), "wild.example without h2, and HTTP, took the default route");
            proxy.awaitLog("route=sni:a.example sni=\"a.example\" alpn=\"http/1.1\"");
            proxy.awaitLog("route=alpn:h2 sni=\"other.example\" alpn=\"h2\"");
            proxy.awaitLog("route=default sni=\"-\" alpn=\"-\"");
        }
    }

    @Test
    void aHelloSentOneByteAtATimeIsHeldUntilCompleteThenForwardedFirstAndIntact() throws Exception {
        CompletableFuture<byte[]> seen = new CompletableFuture<>();
        byte[] hello = Hellos.records(Hellos.message(List.of(Hellos.sni("slow.example"))), 40); // split over records too
        try (TestBackend slow = TestBackend.start(s -> {
                    byte[] got = new DataInputStream(s.getInputStream()).readNBytes(hello.length + 5);
                    seen.complete(got);
                    s.getOutputStream().write(ascii("ok"));
                });
                TestBackend def = TestBackend.echo();
                TestProxy proxy = new TestProxy(Settings.DEFAULTS, List.of(listener(def.port(), FAST, ProxyProtocol.OFF, false,
                        "sni:slow.example", slow.port())));
                Socket c = proxy.connect()) {
            c.setTcpNoDelay(true);
            OutputStream out = c.getOutputStream();
            for (int i = 0; i < hello.length; i++) {
                out.write(hello[i]);
                if (i % 25 != 0 || i == hello.length - 1) continue;
                int held = i + 1;
                TestProxy.await(() -> prereadHeld(proxy) == held, "the proxy holding " + held + " bytes of the hello");
            }
            out.write(ascii("after"));
            byte[] expect = Arrays.copyOf(hello, hello.length + 5);
            System.arraycopy(ascii("after"), 0, expect, hello.length, 5);
            assertArrayEquals(expect, seen.get(20, TimeUnit.SECONDS), "the hello first and whole, then the client's next bytes");
            assertArrayEquals(ascii("ok"), c.getInputStream().readNBytes(2));
            assertEquals(0, def.accepted.get());
        }
    }

    /** Bytes the proxy holds for its one client still in the pre-read (-1: none). */
    static int prereadHeld(TestProxy proxy) {
        try {
            return proxy.onLoop(0, fl -> {
                for (int i = 0; i < fl.openConnections(); i++) {
                    ConnectionInfo ci = fl.connectionAt(i).info(fl.loop());
                    if (ci.state().equals("preread")) return ci.bufferedUp();
                }
                return -1;
            });
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void slowGarbageUnmatchedAndOversizedClientsAreClosedCountedAndNeverForwarded() throws Exception {
        PrereadLimits limits = new PrereadLimits(2048, 400, 300);
        try (TestBackend tls = TestBackend.echo();
                TestProxy proxy = new TestProxy(Settings.DEFAULTS, List.of(listener(-1, limits, ProxyProtocol.OFF, false,
                        "proto:tls", tls.port())))) {
            byte[] hello = Hellos.browser("a.example", "h2");
            try (Socket c = proxy.connect()) { // slow: half a hello, then nothing
                c.getOutputStream().write(Arrays.copyOf(hello, 100));
                long start = System.nanoTime();
                AcceptProxyTest.assertClosed(c);
                assertTrue((System.nanoTime() - start) / 1_000_000 >= 250, "held until the deadline");
            }
            try (Socket c = proxy.connect()) { // silent, and no ssh route: closed at the deadline too
                AcceptProxyTest.assertClosed(c);
            }
            assertArrayEquals(new byte[0], exchange(proxy, ascii("SSH-2.0-x\r\n")), "no route for ssh, no default route");
            byte[] lying = hello.clone();
            lying[5 + 4 + 34] = 40; // a session id of 40 bytes
            assertArrayEquals(new byte[0], exchange(proxy, lying));
            assertArrayEquals(new byte[0], exchange(proxy, Arrays.copyOf(hello, 300)), "a hello cut short by FIN");
            byte[] big = Hellos.records(Hellos.message(List.of(Hellos.sni("a.example"), Hellos.raw(21, 3000))), 1 << 14);
            assertArrayEquals(new byte[0], exchange(proxy, big), "a hello over the 2 KiB cap");
            TestProxy.await(() -> count(proxy.log(), " end=") == 6, "six end lines:\n" + proxy.log());
            ForwardStats st = proxy.stats(0);
            assertEquals(2, st.ends[EndReason.PREREAD_TIMEOUT.ordinal()]);
            assertEquals(1, st.ends[EndReason.NO_ROUTE.ordinal()]);
            assertEquals(2, st.ends[EndReason.BAD_CLIENT_HELLO.ordinal()]);
            assertEquals(1, st.ends[EndReason.PREREAD_TOO_LONG.ordinal()]);
            assertEquals(0, tls.accepted.get(), "nothing reached the backend");
            String log = proxy.log();
            assertTrue(log.contains("end=preread-timeout why=\"no route chosen within 400 ms (100 bytes came)\""), log);
            assertTrue(log.contains("end=bad-client-hello why=\"session id of 40 bytes (at most 32)\""), log);
            assertTrue(log.contains("end=no-route route=- sni=\"-\""), log);
            assertTrue(log.contains("end=preread-too-long why=\"ClientHello of "), log);
        }
    }

    @Test
    void theRinetdLogNamesNoBackendForAClientNoRouteTook(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        Forward routesOnly = listener(-1, FAST, ProxyProtocol.OFF, false, "sni:a.example", 1);
        RinetdLog log = new RinetdLog(dir.resolve("rinetd.log"), false);
        try {
            String line = log.format(new ConnectionRecord(routesOnly, SockAddr.parse("127.0.0.1", 5), null, 0, 0, 1, EndReason.NO_ROUTE, 0),
                    java.time.ZonedDateTime.parse("2026-12-05T06:00:00Z"));
            assertTrue(line.endsWith("\t-\t0\t0\t0\tno-route\n"), line);
        } finally {
            log.close();
        }
    }

    static int count(String s, String what) {
        return s.split(what, -1).length - 1;
    }

    @Test
    void aClientBeingReadCountsTowardItsPerClientLimit() throws Exception {
        Settings st = Settings.builder().maxPerClient(1).build();
        try (TestBackend def = TestBackend.echo();
                TestProxy proxy = new TestProxy(st, List.of(listener(def.port(), FAST, ProxyProtocol.OFF, false, "proto:http", def.port())));
                Socket first = proxy.connect()) {
            first.getOutputStream().write(ascii("GE")); // undecided: held in the pre-read
            TestProxy.await(() -> prereadHeld(proxy) == 2, "the first client in the pre-read");
            assertArrayEquals(new byte[0], exchange(proxy, ascii("GET / HTTP/1.1\r\n\r\n")), "the second is over the limit");
            proxy.awaitLog("end=client-limit");
            first.getOutputStream().write(ascii("T / HTTP/1.1\r\n\r\n"));
            first.shutdownOutput();
            assertArrayEquals(ascii("GET / HTTP/1.1\r\n\r\n"), first.getInputStream().readAllBytes(), "the first goes on, intact");
        }
    }

    @Test
    void traceShowsThePrereadAndWhatItWasTakenFor() throws Exception {
        Settings st = Settings.builder().trace(true).build();
        try (TestBackend def = TestBackend.echo(); TestBackend web = TestBackend.echo();
                TestProxy proxy = new TestProxy(st, List.of(listener(def.port(), FAST, ProxyProtocol.OFF, false, "proto:http", web.port())))) {
            assertArrayEquals(ascii("GET / HTTP/1.1\r\n\r\n"), exchange(proxy, ascii("GET / HTTP/1.1\r\n\r\n")));
            proxy.awaitLog("18 bytes proto=http route=proto:http first bytes: 47 45 54 20 2f");
        }
    }

    @Test
    void aSilentClientGoesToTheSshRouteAfterTheWait() throws Exception {
        try (TestBackend ssh = TestBackend.start(s -> {
                    s.getOutputStream().write(ascii("SSH-2.0-test\r\n")); // the server speaks first
                    s.getInputStream().readAllBytes();
                });
                TestBackend def = TestBackend.echo();
                TestProxy proxy = new TestProxy(Settings.DEFAULTS, List.of(listener(def.port(), FAST, ProxyProtocol.OFF, false,
                        "proto:ssh", ssh.port())));
                Socket c = proxy.connect()) {
            assertArrayEquals(ascii("SSH-2.0-test\r\n"), c.getInputStream().readNBytes(14));
            Routed seen = proxy.onLoop(0, fl -> fl.openConnections() == 1 ? fl.connectionAt(0).info(fl.loop()).routed() : null);
            assertEquals(new Routed("proto:ssh", "silent", null, List.of()), seen, "/connections names the route");
            c.shutdownOutput();
            proxy.awaitLog("route=proto:ssh");
            assertEquals(0, def.accepted.get());
        }
    }

    @Test
    void thePROXYHeaderComesFirstTheHelloAfterItAndTheRouteSendsItsOwnHeader() throws Exception {
        CompletableFuture<ProxyHeaderParser.Header> seen = new CompletableFuture<>();
        byte[] hello = Hellos.browser("p.example", "h2");
        try (TestBackend b = TestBackend.start(s -> {
                    InputStream in = s.getInputStream();
                    seen.complete(ProxyHeaderParser.read(in));
                    s.getOutputStream().write(in.readAllBytes());
                });
                TestBackend def = TestBackend.echo();
                TestProxy proxy = new TestProxy(Settings.DEFAULTS, List.of(listener(def.port(), FAST, ProxyProtocol.V2, true,
                        "sni:p.example", b.port())))) {
            byte[] header = ascii("PROXY TCP4 203.0.113.9 192.0.2.1 5555 443\r\n");
            byte[] both = Arrays.copyOf(header, header.length + hello.length);
            System.arraycopy(hello, 0, both, header.length, hello.length);
            assertArrayEquals(hello, exchange(proxy, both), "the hello alone reached the backend after our v2 header");
            ProxyHeaderParser.Header h = seen.get(10, TimeUnit.SECONDS);
            assertEquals(2, h.version());
            assertEquals(InetAddress.getByName("203.0.113.9"), h.src());
            proxy.awaitLog("tcp client=203.0.113.9:5555 listen=127.0.0.1:" + proxy.port() + " backend=127.0.0.1:" + b.port());
        }
    }

    @Test
    void aRoutedBulkTransferThroughSpliceIsIntactBothWays() throws Exception {
        Settings st = Settings.builder().splice(true).build();
        byte[] payload = new byte[4 << 20];
        new Random(23).nextBytes(payload);
        byte[] hello = Hellos.browser("bulk.example", "h2");
        byte[] all = Arrays.copyOf(hello, hello.length + payload.length);
        System.arraycopy(payload, 0, all, hello.length, payload.length);
        try (TestBackend b = TestBackend.echo(); TestBackend def = TestBackend.echo();
                TestProxy proxy = new TestProxy(st, List.of(listener(def.port(), FAST, ProxyProtocol.OFF, false, "sni:bulk.example", b.port())));
                Socket c = proxy.connect()) {
            CompletableFuture<byte[]> back = CompletableFuture.supplyAsync(() -> {
                try {
                    return c.getInputStream().readAllBytes();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            c.getOutputStream().write(all);
            c.shutdownOutput(); // half-close: the echo backend ends after the whole stream came back
            assertArrayEquals(all, back.get(60, TimeUnit.SECONDS));
            TestProxy.await(() -> {
                try {
                    return proxy.stats(0).bytesSplicedUp > 0;
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }, "bytes spliced after the routed start");
        }
    }
}
