package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.epollproxy.Ports;
import org.epollproxy.shim.SockAddr;
import org.junit.jupiter.api.Test;

/**
 * The balance policies with real sockets: three backends that each answer a new connection with their
 * name (one byte), so a client knows which one it got; the proxy in this JVM, with two loops so every
 * policy is shown to hold across loops.
 */
class BalanceTest {

    /** A backend that writes {@code tag} on every connection, then echoes until the client's FIN. */
    static TestBackend tagged(char tag) throws IOException {
        return TestBackend.start(s -> {
            s.getOutputStream().write(tag);
            s.getOutputStream().flush();
            byte[] b = new byte[1024];
            int n;
            while ((n = s.getInputStream().read(b)) > 0) s.getOutputStream().write(b, 0, n);
        });
    }

    static Forward forward(Balancing b, TestBackend... backends) {
        List<Backend> list = new ArrayList<>();
        for (TestBackend t : backends) list.add(TestProxy.backend(t.port()));
        return new Forward(SockAddr.parse("127.0.0.1", 0), list).withBalancing(b);
    }

    static Forward weighted(Balancing b, int[] weights, TestBackend... backends) {
        List<Backend> list = new ArrayList<>();
        for (int i = 0; i < backends.length; i++) {
            list.add(new Backend("127.0.0.1", SockAddr.parse("127.0.0.1", backends[i].port()), weights[i]));
        }
        return new Forward(SockAddr.parse("127.0.0.1", 0), list).withBalancing(b);
    }

    static final Settings TWO_LOOPS = Settings.builder().threads(2).logConnections(false).build();

    /** Connects (from {@code from}, or any local address) and returns the socket after reading the backend's tag. */
    static Socket open(TestProxy p, String from, char[] tag) throws IOException {
        Socket s = new Socket();
        if (from != null) s.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
        s.connect(new InetSocketAddress("127.0.0.1", p.port()), 5000);
        s.setSoTimeout(10_000);
        int t = s.getInputStream().read();
        tag[0] = (char) t;
        return s;
    }

    static char once(TestProxy p, String from) throws IOException {
        char[] tag = new char[1];
        try (Socket s = open(p, from, tag)) {
            return tag[0];
        }
    }

    @Test
    void roundrobinSpreads300ConnectionsExactlyEvenlyOverThreeBackendsAcrossTwoLoops() throws Exception {
        try (TestBackend a = tagged('a'); TestBackend b = tagged('b'); TestBackend c = tagged('c');
                TestProxy p = new TestProxy(TWO_LOOPS, List.of(forward(Balancing.DEFAULT.withPolicy(Balancing.Policy.ROUNDROBIN), a, b, c)))) {
            Map<Character, Integer> got = new HashMap<>();
            for (int i = 0; i < 300; i++) got.merge(once(p, null), 1, Integer::sum);
            assertEquals(Map.of('a', 100, 'b', 100, 'c', 100), got);
        }
    }

    @Test
    void weightedRoundrobinFollowsTheWeights() throws Exception {
        try (TestBackend a = tagged('a'); TestBackend b = tagged('b'); TestBackend c = tagged('c');
                TestProxy p = new TestProxy(TWO_LOOPS, List.of(weighted(Balancing.DEFAULT.withPolicy(Balancing.Policy.ROUNDROBIN),
                        new int[] {3, 1, 1}, a, b, c)))) {
            Map<Character, Integer> got = new HashMap<>();
            StringBuilder order = new StringBuilder();
            for (int i = 0; i < 50; i++) {
                char t = once(p, null);
                got.merge(t, 1, Integer::sum);
                if (i < 5) order.append(t);
            }
            assertEquals(Map.of('a', 30, 'b', 10, 'c', 10), got);
            assertTrue(!order.toString().contains("aaa"), "interleaved, not bunched: " + order);
        }
    }

    @Test
    void leastconnSendsANewClientToTheBackendWithFewestOpenConnections() throws Exception {
        try (TestBackend a = tagged('a'); TestBackend b = tagged('b'); TestBackend c = tagged('c');
                TestProxy p = new TestProxy(TWO_LOOPS, List.of(forward(Balancing.DEFAULT.withPolicy(Balancing.Policy.LEASTCONN), a, b, c)))) {
            Map<Character, List<Socket>> open = new HashMap<>();
            char[] tag = new char[1];
            for (int i = 0; i < 6; i++) {
                Socket s = open(p, null, tag);
                open.computeIfAbsent(tag[0], k -> new ArrayList<>()).add(s);
            }
            for (char t : new char[] {'a', 'b', 'c'}) assertEquals(2, open.get(t).size(), "two each: " + open.keySet());
            // Close both of b's: a and c keep 2 each, b has 0, so the next two clients go to b.
            for (Socket s : open.remove('b')) s.close();
            TestProxy.await(() -> p.proxy.backendPool().snapshot().stream().mapToInt(i -> i.open()).sum() == 4, "the proxy saw the closes");
            List<Socket> more = new ArrayList<>();
            StringBuilder next = new StringBuilder();
            for (int i = 0; i < 2; i++) {
                more.add(open(p, null, tag));
                next.append(tag[0]);
            }
            assertEquals("bb", next.toString());
            for (List<Socket> l : open.values()) for (Socket s : l) s.close();
            for (Socket s : more) s.close();
        }
    }

    @Test
    void sourceKeepsEachClientAddressOnOneBackend() throws Exception {
        try (TestBackend a = tagged('a'); TestBackend b = tagged('b'); TestBackend c = tagged('c');
                TestProxy p = new TestProxy(TWO_LOOPS, List.of(forward(Balancing.DEFAULT.withPolicy(Balancing.Policy.SOURCE), a, b, c)))) {
            Set<Character> used = new HashSet<>();
            for (int host = 2; host <= 13; host++) {
                String from = "127.0.0." + host;
                char first = once(p, from);
                used.add(first);
                for (int i = 0; i < 5; i++) assertEquals(first, once(p, from), from + " moved");
            }
            assertTrue(used.size() >= 2, "12 client addresses all hashed to one backend: " + used);
        }
    }

    @Test
    void passiveMarkingTakesADeadBackendOutAfterMaxFailsAndLogsItOnce() throws Exception {
        Balancing twoFails = new Balancing(Balancing.Policy.FIRST, 2, 60_000, 0, 2, 3, null, null);
        int dead = Ports.free();
        try (TestBackend good = tagged('g');
                TestProxy p = new TestProxy(Settings.DEFAULTS, List.of(new Forward(SockAddr.parse("127.0.0.1", 0),
                        List.of(TestProxy.backend(dead), TestProxy.backend(good.port()))).withBalancing(twoFails)))) {
            for (int i = 0; i < 5; i++) assertEquals('g', once(p, null));
            p.awaitLog("backend 127.0.0.1:" + dead + " of 127.0.0.1:" + p.port() + " down: 2 consecutive connect failures");
            assertEquals(2, p.stats(0).connectFailures, "clients 3-5 skipped the dead backend: no connect tried");
            assertEquals(1, p.log().split("down: ", -1).length - 1, "one line for going down: " + p.log());
            var info = p.proxy.backendPool().snapshot().get(0);
            assertTrue(!info.up() && info.failures() == 2 && info.lastFailure().contains("ECONNREFUSED"), info.toString());
        }
    }

    @Test
    void whenEveryBackendIsDownAClientIsClosedAtOnceWithNoBackend() throws Exception {
        Balancing oneFail = new Balancing(Balancing.Policy.ROUNDROBIN, 1, 60_000, 0, 2, 3, null, null);
        try (TestProxy p = new TestProxy(Settings.DEFAULTS, List.of(new Forward(SockAddr.parse("127.0.0.1", 0),
                List.of(TestProxy.backend(Ports.free()), TestProxy.backend(Ports.free()))).withBalancing(oneFail)))) {
            try (Socket s = p.connect()) {
                assertEquals(-1, s.getInputStream().read());
            }
            p.awaitLog("end=backend-refused");
            long t0 = System.nanoTime();
            try (Socket s = p.connect()) {
                assertEquals(-1, s.getInputStream().read());
            }
            assertTrue(System.nanoTime() - t0 < 1_000_000_000L, "closed at once");
            p.awaitLog("backend=- up=0 down=0");
            p.awaitLog("end=no-backend");
            TestProxy.await(() -> {
                try {
                    return p.stats(0).ends[EndReason.NO_BACKEND.ordinal()] == 1;
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }, "no-backend counted");
            assertEquals(2, p.stats(0).connectFailures, "nothing tried the second time");
        }
    }

    static InputStream in(Socket s) throws IOException {
        return s.getInputStream();
    }
}
