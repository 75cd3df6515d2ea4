package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.epollproxy.shim.SockAddr;
import org.junit.jupiter.api.Test;

/**
 * --max-connections-per-client and --client-rate with many source addresses on loopback (127.0.0.0/8 is
 * all local), a flood from one of them while the others are served, and the table's bound.
 */
class ClientLimitsTest {

    static Socket from(String source, int port) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(source, 0));
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        s.setSoTimeout(10_000);
        return s;
    }

    static byte[] echoOnce(Socket s, byte[] data) throws IOException {
        s.getOutputStream().write(data);
        s.shutdownOutput();
        return s.getInputStream().readAllBytes();
    }

    static int count(String log, String text) {
        return log.split(java.util.regex.Pattern.quote(text), -1).length - 1;
    }

    @Test
    void aClientOverItsOpenConnectionsIsAcceptedAndClosedWhileOthersAreServed() throws Exception {
        try (TestBackend backend = TestBackend.echo();
                TestProxy proxy = new TestProxy(Settings.builder().maxPerClient(2).build(), backend.port())) {
            Socket a = from("127.0.0.2", proxy.port());
            Socket b = from("127.0.0.2", proxy.port());
            TestProxy.await(() -> backend.accepted.get() == 2, "two connections of 127.0.0.2 at the backend");
            try (Socket third = from("127.0.0.2", proxy.port())) {
                assertEquals(-1, third.getInputStream().read(), "the third is closed at once");
            }
            proxy.awaitLog("tcp client=127.0.0.2:");
            proxy.awaitLog("backend=- up=0 down=0 ms=0 end=client-limit");
            try (Socket other = from("127.0.0.3", proxy.port())) {
                assertArrayEquals("x".getBytes(), echoOnce(other, "x".getBytes()), "another address is served");
            }
            a.close();
            TestProxy.await(() -> proxy.log().contains("client=127.0.0.2:" + a.getLocalPort()), "the first one's end");
            try (Socket again = from("127.0.0.2", proxy.port())) {
                assertArrayEquals("y".getBytes(), echoOnce(again, "y".getBytes()), "a closed connection gives its room back");
            }
            b.close();
            assertEquals(1, proxy.stats(0).ends[EndReason.CLIENT_LIMIT.ordinal()]);
        }
    }

    @Test
    void aFloodFromOneAddressIsCutToItsRateWhileTwentyOthersAreAllServed() throws Exception {
        try (TestBackend backend = TestBackend.echo();
                TestProxy proxy = new TestProxy(Settings.builder().clientRate(10, 3600).build(), backend.port())) {
            AtomicInteger floodServed = new AtomicInteger();
            List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
            Thread flood = new Thread(() -> {
                for (int i = 0; i < 300; i++) {
                    try (Socket s = from("127.0.0.9", proxy.port())) {
                        if (echoOnce(s, "f".getBytes()).length == 1) floodServed.incrementAndGet();
                    } catch (IOException e) {
                        String m = String.valueOf(e.getMessage()); // a refused one: EOF, or RST for the byte it left unread
                        if (!m.contains("reset") && !m.contains("Broken pipe")) errors.add(e);
                    }
                }
            });
            flood.start();
            for (int i = 1; i <= 20; i++) {
                try (Socket s = from("127.0.1." + i, proxy.port())) {
                    assertArrayEquals(("ok" + i).getBytes(), echoOnce(s, ("ok" + i).getBytes()), "127.0.1." + i + " served during the flood");
                }
            }
            flood.join(60_000);
            assertTrue(errors.isEmpty(), errors.toString());
            assertEquals(10, floodServed.get(), "the flooding address got its burst of 10 (per hour), no more");
            TestProxy.await(() -> count(proxy.log(), "end=client-limit") == 290, "290 client-limit lines");
            assertEquals(290, proxy.stats(0).ends[EndReason.CLIENT_LIMIT.ordinal()]);
            for (String line : proxy.log().split("\n")) {
                if (line.contains("client=127.0.1.")) assertTrue(line.endsWith("end=client-closed"), line);
            }
        }
    }

    @Test
    void theTableStaysWithinItsSizeWhateverTheNumberOfAddresses() throws Exception {
        try (TestBackend backend = TestBackend.echo();
                TestProxy proxy = new TestProxy(Settings.builder().maxPerClient(5).clientTableSize(16).build(), backend.port())) {
            for (int i = 1; i <= 100; i++) {
                try (Socket s = from("127.2.0." + i, proxy.port())) {
                    assertArrayEquals("z".getBytes(), echoOnce(s, "z".getBytes()));
                }
            }
            ClientLimits t = proxy.proxy.clientLimits();
            TestProxy.await(() -> t.size() <= 16, "the table within 16 addresses");
            assertEquals(16, t.size());
            assertEquals(84, t.forgotten());
        }
    }

    @Test
    void ipv6ClientsAreCountedByTheirSlash64AndMappedIpv4AsIpv4() {
        assertEquals(ClientLimits.key(SockAddr.parse("2001:db8::1", 1)), ClientLimits.key(SockAddr.parse("2001:db8::ffff:1", 2)));
        assertNotEquals(ClientLimits.key(SockAddr.parse("2001:db8::1", 1)), ClientLimits.key(SockAddr.parse("2001:db8:0:1::1", 1)));
        assertEquals(ClientLimits.key(SockAddr.parse("10.1.2.3", 1)), ClientLimits.key(SockAddr.parse("::ffff:10.1.2.3", 9)));
        assertNotEquals(ClientLimits.key(SockAddr.parse("0.0.0.1", 1)), ClientLimits.key(SockAddr.parse("::1", 1)));
    }

    @Test
    void whenEveryTrackedAddressIsBusyNewAddressesShareOneOverflowLimitedLikeOneClient() {
        ClientLimits t = new ClientLimits(1, 0, 1, 4);
        List<ClientLimits.Entry> held = new ArrayList<>();
        for (int i = 1; i <= 4; i++) held.add(t.admit(SockAddr.parse("10.0.0." + i, 1), 0));
        assertNull(t.admit(SockAddr.parse("10.0.0.1", 2), 0), "over its one connection");
        ClientLimits.Entry outside = t.admit(SockAddr.parse("10.0.0.5", 1), 0);
        assertNotNull(outside, "the overflow's one connection");
        assertNull(t.admit(SockAddr.parse("10.0.0.7", 1), 0), "the overflow is limited like one client");
        assertNull(t.admit(SockAddr.parse("10.0.0.5", 2), 0));
        assertEquals(1, t.overflowed());
        assertEquals(1, t.overflowOpen());
        assertEquals(4, t.size());
        t.release(held.get(0));
        ClientLimits.Entry e = t.admit(SockAddr.parse("10.0.0.6", 1), 0);
        assertNotNull(e);
        assertNotEquals(ClientLimits.UNTRACKED, e, "an idle address made room");
        assertEquals(4, t.size());
        t.release(held.get(1));
        assertNull(t.admit(SockAddr.parse("10.0.0.5", 3), 0), "moving into the table keeps its open connection");
        t.release(outside);
        assertEquals(0, t.overflowOpen());
        assertNotNull(t.admit(SockAddr.parse("10.0.0.5", 4), 0));
        assertSame(ClientLimits.UNTRACKED, t.admit(SockAddr.unix("/run/x.sock"), 0), "UNIX clients are not limited");
    }

    @Test
    void cyclingThroughMoreAddressesThanTheTableHoldsDoesNotResetARateLimitedAddress() {
        ClientLimits t = new ClientLimits(0, 2, 3600, 4);
        SockAddr a = SockAddr.parse("10.0.0.1", 1);
        t.release(t.admit(a, 0));
        t.release(t.admit(a, 0));
        assertNull(t.admit(a, 0), "its burst of two is spent");
        for (int i = 2; i <= 200; i++) {
            ClientLimits.Entry e = t.admit(SockAddr.parse("10.0.1." + i, 1), 1_000_000L * i);
            if (e != null) t.release(e);
        }
        assertNull(t.admit(a, 300_000_000L), "still limited after 200 other addresses");
        assertTrue(t.size() <= 4);
        assertTrue(t.outside() <= 2 + 2, "the addresses outside are bounded by the overflow's own admissions: " + t.outside());
        assertNotNull(t.admit(a, 3_600_000_000_000L), "a full period later its bucket has refilled");
    }

    /**
     * Real connections from 60 addresses of 127.3.0.0/16, with a table of 4 held by 4 busy addresses: none of
     * the addresses gets more than its 2 open connections or its 3 per hour, together the ones outside the
     * table get one client's share, and /metrics counts them.
     */
    @Test
    void withTheTableFullOfBusyAddressesNoAddressGetsMoreThanItsLimit() throws Exception {
        try (TestBackend backend = TestBackend.echo();
                TestProxy proxy = new TestProxy(Settings.builder().maxPerClient(2).clientRate(3, 3600).clientTableSize(4).build(), backend.port());
                org.epollproxy.stats.StatsServer stats = StatsEndpointTest.statsOn(proxy)) {
            List<Socket> held = new ArrayList<>();
            java.util.Map<String, Integer> served = new java.util.TreeMap<>();
            try {
                for (int round = 0; round < 4; round++) {
                    for (int i = 1; i <= 60; i++) {
                        String source = (i <= 4 ? "127.3.0." : "127.3.1.") + i;
                        Socket s = from(source, proxy.port());
                        s.getOutputStream().write('p');
                        int r;
                        try {
                            r = s.getInputStream().read();
                        } catch (IOException reset) {
                            r = -1;
                        }
                        if (r == 'p') {
                            held.add(s); // kept open: the open-connection limit counts it
                            served.merge(source, 1, Integer::sum);
                        } else {
                            s.close();
                        }
                    }
                }
                for (var e : served.entrySet()) assertTrue(e.getValue() <= 2, e.getKey() + " got " + e.getValue() + " connections");
                for (int i = 1; i <= 4; i++) assertEquals(2, served.get("127.3.0." + i), "the table's own addresses get their share");
                int outside = served.entrySet().stream().filter(e -> e.getKey().startsWith("127.3.1.")).mapToInt(java.util.Map.Entry::getValue).sum();
                assertEquals(2, outside, "the 56 addresses outside the full table share one client's 2 connections: " + served);
                var m = StatsEndpointTest.metrics(stats);
                assertEquals(2, m.get("epollproxy_client_table_overflow_total").value());
                assertEquals(2, m.get("epollproxy_client_table_overflow_connections").value());
                assertEquals(4, m.get("epollproxy_client_table_addresses").value());
            } finally {
                for (Socket s : held) s.close();
            }
        }
    }

    /** 200 other addresses through a table of 8 while 127.4.0.1 is over its rate: its limit is not reset. */
    @Test
    void cyclingManyAddressesThroughTheTableDoesNotResetALimitedAddress() throws Exception {
        try (TestBackend backend = TestBackend.echo();
                TestProxy proxy = new TestProxy(Settings.builder().clientRate(2, 3600).clientTableSize(8).build(), backend.port())) {
            int servedA = 0;
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < 3; i++) {
                    try (Socket s = from("127.4.0.1", proxy.port())) {
                        if (echoOnce(s, "a".getBytes()).length == 1) servedA++;
                    } catch (IOException refused) {
                        // a refused one: EOF, or RST for the byte it left unread
                    }
                }
                for (int i = 1; i <= 200; i++) {
                    try (Socket s = from("127.4." + (1 + round) + "." + i, proxy.port())) {
                        echoOnce(s, "b".getBytes());
                    } catch (IOException refused) {
                        // the overflow's share is spent: refused, as it should be
                    }
                }
            }
            assertEquals(2, servedA, "127.4.0.1 got its burst of 2 per hour, no more, whatever the other addresses did");
            assertTrue(proxy.proxy.clientLimits().size() <= 8);
        }
    }

    /**
     * The address a PROXY header announces holds one slot of --max-connections-per-client 1, and every way
     * its connection ends gives the slot back: a client reset, a backend that refuses, a normal close. Each
     * time the same announced client is served again at once (never end=client-limit).
     */
    @Test
    void theAnnouncedClientGetsItsSlotBackHoweverItsConnectionEnds() throws Exception {
        int refusing = org.epollproxy.Ports.free(); // nothing listens there
        byte[] header = "PROXY TCP4 192.0.2.9 127.0.0.1 4000 80\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        try (TestBackend backend = TestBackend.echo();
                TestProxy proxy = new TestProxy(Settings.builder().maxPerClient(1).build(), List.of(
                        AcceptProxyTest.accepting(backend.port(), ProxyProtocol.OFF, AccessRules.ALLOW_ALL),
                        new Forward(Forward.Proto.TCP, SockAddr.parse("127.0.0.1", org.epollproxy.Ports.free()),
                                List.of(TestProxy.backend(refusing)), AccessRules.ALLOW_ALL, -1, null, "refusing", ProxyProtocol.OFF, true)))) {
            int served = 0;
            for (String way : List.of("client-reset", "backend-refused", "client-closed")) {
                try (Socket c = from("127.0.0.1", proxy.port(way.equals("backend-refused") ? 1 : 0))) {
                    c.getOutputStream().write(header);
                    if (way.equals("client-reset")) {
                        c.getOutputStream().write("x".getBytes());
                        assertEquals('x', c.getInputStream().read(), "paired before the reset");
                        c.setSoLinger(true, 0);
                    } else if (way.equals("backend-refused")) {
                        assertEquals(-1, c.getInputStream().read());
                    } else {
                        assertArrayEquals("x".getBytes(), echoOnce(c, "x".getBytes()));
                    }
                }
                proxy.awaitLog("end=" + way);
                try (Socket again = from("127.0.0.1", proxy.port())) { // the same announced client, at once
                    again.getOutputStream().write(header);
                    assertArrayEquals("y".getBytes(), echoOnce(again, "y".getBytes()), "served again after " + way);
                }
                served++;
                int want = served;
                TestProxy.await(() -> count(proxy.log(), "end=client-closed") >= want, "the again connection's end");
            }
            assertEquals(0, proxy.stats(0).ends[EndReason.CLIENT_LIMIT.ordinal()] + proxy.stats(1).ends[EndReason.CLIENT_LIMIT.ordinal()]);
        }
    }
}
