package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.epollproxy.shim.SockAddr;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** UDP: a backend socket per client address; replies go to that client and only to it; datagrams stay whole. */
class UdpForwardTest {
    private DatagramSocket backend;
    private Thread backendThread;
    private final AtomicBoolean running = new AtomicBoolean(true);
    /** Backend-side source ports seen, by the payload's first byte (the client's tag). */
    private final ConcurrentHashMap<Byte, Integer> sourcePorts = new ConcurrentHashMap<>();

    @BeforeEach
    void startBackend() throws Exception {
        backend = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        backendThread = new Thread(() -> {
            byte[] b = new byte[65536];
            while (running.get()) {
                try {
                    DatagramPacket p = new DatagramPacket(b, b.length);
                    backend.receive(p);
                    if (p.getLength() > 0) sourcePorts.put(b[0], p.getPort());
                    // reply: the datagram reversed, so the client can tell it is a reply to its own bytes
                    byte[] r = Arrays.copyOf(b, p.getLength());
                    for (int i = 0; i < r.length / 2; i++) {
                        byte t = r[i];
                        r[i] = r[r.length - 1 - i];
                        r[r.length - 1 - i] = t;
                    }
                    backend.send(new DatagramPacket(r, r.length, p.getSocketAddress()));
                } catch (Exception e) {
                    return;
                }
            }
        });
        backendThread.setDaemon(true);
        backendThread.start();
    }

    @AfterEach
    void stopBackend() {
        running.set(false);
        backend.close();
    }

    private TestProxy proxy(Settings st, int timeoutSec, AccessRules rules) {
        Forward f = new Forward(Forward.Proto.UDP, SockAddr.parse("127.0.0.1", 0),
                List.of(TestProxy.backend(backend.getLocalPort())), rules, timeoutSec, null, "test");
        return new TestProxy(st, List.of(f));
    }

    static byte[] roundTrip(DatagramSocket c, int port, byte[] payload) throws Exception {
        c.send(new DatagramPacket(payload, payload.length, InetAddress.getLoopbackAddress(), port));
        byte[] b = new byte[65536];
        DatagramPacket p = new DatagramPacket(b, b.length);
        c.receive(p);
        return Arrays.copyOf(b, p.getLength());
    }

    static byte[] reversed(byte[] a) {
        byte[] r = new byte[a.length];
        for (int i = 0; i < a.length; i++) r[i] = a[a.length - 1 - i];
        return r;
    }

    @Test
    void twoClientsAtOnceEachGetOnlyTheirOwnReplies() throws Exception {
        try (TestProxy proxy = proxy(Settings.DEFAULTS, -1, AccessRules.ALLOW_ALL);
                DatagramSocket a = new DatagramSocket(0, InetAddress.getLoopbackAddress());
                DatagramSocket b = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            a.setSoTimeout(30_000);
            b.setSoTimeout(30_000);
            for (int round = 0; round < 20; round++) {
                byte[] pa = ("A" + round + " from client a").getBytes();
                byte[] pb = ("B" + round + " from client b, longer").getBytes();
                a.send(new DatagramPacket(pa, pa.length, InetAddress.getLoopbackAddress(), proxy.port()));
                b.send(new DatagramPacket(pb, pb.length, InetAddress.getLoopbackAddress(), proxy.port()));
                byte[] ra = new byte[1000];
                byte[] rb = new byte[1000];
                DatagramPacket qa = new DatagramPacket(ra, ra.length);
                DatagramPacket qb = new DatagramPacket(rb, rb.length);
                a.receive(qa);
                b.receive(qb);
                assertArrayEquals(reversed(pa), Arrays.copyOf(ra, qa.getLength()), "client a got its own reply");
                assertArrayEquals(reversed(pb), Arrays.copyOf(rb, qb.getLength()), "client b got its own reply");
            }
            assertTrue(!sourcePorts.get((byte) 'A').equals(sourcePorts.get((byte) 'B')),
                    "the backend saw two sessions (two source ports)");
            ForwardStats st = proxy.proxy.forwardingLoops().get(0).forwardStats().get(0);
            assertEquals(2, st.accepted, "two sessions");
            assertEquals(40, st.datagramsIn);
            // the loop counts a reply just after sendto: the client may have it a moment before
            TestProxy.await(() -> st.datagramsOut == 40, "40 replies counted (now " + st.datagramsOut + ")");
        }
    }

    @Test
    void theLargestDatagramsCrossIntact() throws Exception {
        try (TestProxy proxy = proxy(Settings.DEFAULTS, -1, AccessRules.ALLOW_ALL);
                DatagramSocket c = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            c.setSoTimeout(30_000);
            c.setReceiveBufferSize(1 << 20);
            for (int size : new int[] {0, 1, 1472, 9000, 65507}) {
                byte[] p = new byte[size];
                new Random(size).nextBytes(p);
                if (size > 0) p[0] = 'Z';
                assertArrayEquals(reversed(p), roundTrip(c, proxy.port(), p), "size " + size);
            }
        }
    }

    @Test
    void anIdleSessionEndsAfterItsTimeoutAndANewOneStartsAfter() throws Exception {
        try (TestProxy proxy = proxy(Settings.DEFAULTS, 1, AccessRules.ALLOW_ALL);
                DatagramSocket c = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            c.setSoTimeout(30_000);
            assertArrayEquals("olleh".getBytes(), roundTrip(c, proxy.port(), "hello".getBytes()));
            proxy.awaitLog("udp client=127.0.0.1:" + c.getLocalPort());
            assertTrue(proxy.log().contains("end=idle-timeout"), proxy.log());
            assertArrayEquals("niaga".getBytes(), roundTrip(c, proxy.port(), "again".getBytes()));
            TestProxy.await(() -> proxy.proxy.forwardingLoops().get(0).forwardStats().get(0).accepted == 2, "a second session");
        }
    }

    @Test
    void atTheSessionCapTheLeastRecentlyUsedSessionIsEvicted() throws Exception {
        Settings st = Settings.builder().udpMaxSessions(2).build();
        try (TestProxy proxy = proxy(st, -1, AccessRules.ALLOW_ALL);
                DatagramSocket a = new DatagramSocket(0, InetAddress.getLoopbackAddress());
                DatagramSocket b = new DatagramSocket(0, InetAddress.getLoopbackAddress());
                DatagramSocket c = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            for (DatagramSocket s : List.of(a, b, c)) s.setSoTimeout(30_000);
            roundTrip(a, proxy.port(), "a1".getBytes());
            roundTrip(b, proxy.port(), "b1".getBytes());
            roundTrip(a, proxy.port(), "a2".getBytes()); // a is now more recent than b
            roundTrip(c, proxy.port(), "c1".getBytes()); // evicts b
            proxy.awaitLog("udp client=127.0.0.1:" + b.getLocalPort());
            assertTrue(proxy.log().contains("udp client=127.0.0.1:" + b.getLocalPort() + " listen="), proxy.log());
            assertTrue(proxy.log().contains("end=evicted"), proxy.log());
            assertEquals(1, proxy.proxy.forwardingLoops().get(0).forwardStats().get(0).sessionsEvicted);
            assertEquals(2, proxy.proxy.forwardingLoops().get(0).openSessions());
        }
    }

    @Test
    void aDeniedClientsDatagramsNeverReachTheBackend() throws Exception {
        AccessRules rules = new AccessRules(List.of(), List.of("127.0.0.2"), List.of(), List.of());
        try (TestProxy proxy = proxy(Settings.DEFAULTS, -1, rules);
                DatagramSocket denied = new DatagramSocket(0, InetAddress.getByName("127.0.0.2"));
                DatagramSocket ok = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            denied.setSoTimeout(300);
            ok.setSoTimeout(30_000);
            byte[] p = "Xdenied".getBytes();
            denied.send(new DatagramPacket(p, p.length, InetAddress.getLoopbackAddress(), proxy.port()));
            assertThrows(SocketTimeoutException.class, () -> denied.receive(new DatagramPacket(new byte[100], 100)));
            assertArrayEquals("kOY".getBytes(), roundTrip(ok, proxy.port(), "YOk".getBytes()));
            assertTrue(!sourcePorts.containsKey((byte) 'X'), "the denied datagram reached the backend");
            proxy.awaitLog("client=127.0.0.2:" + denied.getLocalPort());
            assertTrue(proxy.log().contains("end=denied"), proxy.log());
            assertEquals(1, proxy.proxy.forwardingLoops().get(0).forwardStats().get(0).denied);
        }
    }

    /**
     * Datagrams to a session's socket from anyone but its backend (another port, another address) are not
     * taken for replies: the session socket is connect()ed, so the kernel drops them. Sent before the real
     * reply over loopback, any of them forwarded would reach the client first.
     */
    @Test
    void aReplyFromAnotherAddressOrPortNeverReachesTheClient() throws Exception {
        try (DatagramSocket real = new DatagramSocket(0, InetAddress.getLoopbackAddress());
                DatagramSocket otherPort = new DatagramSocket(0, InetAddress.getLoopbackAddress());
                DatagramSocket otherAddress = new DatagramSocket(new InetSocketAddress("127.0.0.2", 0));
                DatagramSocket c = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            Forward f = new Forward(Forward.Proto.UDP, SockAddr.parse("127.0.0.1", 0),
                    List.of(TestProxy.backend(real.getLocalPort())), AccessRules.ALLOW_ALL, -1, null, "test");
            try (TestProxy proxy = new TestProxy(Settings.DEFAULTS, List.of(f))) {
                real.setSoTimeout(30_000);
                c.setSoTimeout(30_000);
                c.send(new DatagramPacket("hi".getBytes(), 2, InetAddress.getLoopbackAddress(), proxy.port()));
                DatagramPacket got = new DatagramPacket(new byte[16], 16);
                real.receive(got);
                otherPort.send(new DatagramPacket("other port".getBytes(), 10, got.getSocketAddress()));
                otherAddress.send(new DatagramPacket("other addr".getBytes(), 10, got.getSocketAddress()));
                real.send(new DatagramPacket("real".getBytes(), 4, got.getSocketAddress()));
                DatagramPacket reply = new DatagramPacket(new byte[64], 64);
                c.receive(reply);
                assertEquals("real", new String(reply.getData(), 0, reply.getLength()));
            }
        }
    }

    /**
     * A flood of new source addresses at the session cap evicts a session per datagram: each is counted, but
     * logged one a second, the next such line saying how many were not, instead of a line per datagram.
     */
    @Test
    void evictionsUnderAFloodOfNewClientsAreCountedEachButNotLoggedEach() throws Exception {
        Settings st = Settings.builder().udpMaxSessions(2).build();
        List<DatagramSocket> clients = new java.util.ArrayList<>();
        try (TestProxy proxy = proxy(st, -1, AccessRules.ALLOW_ALL)) {
            for (int i = 0; i < 100; i++) clients.add(new DatagramSocket(0, InetAddress.getLoopbackAddress()));
            long end = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(TestProxy.AWAIT_S);
            while (proxy.onLoop(0, fl -> fl.forwardStats().get(0).sessionsEvicted) < 98) { // a datagram lost is sent again
                assertTrue(System.nanoTime() < end, "98 evictions did not happen");
                for (DatagramSocket c : clients) c.send(new DatagramPacket(new byte[] {'x'}, 1, InetAddress.getLoopbackAddress(), proxy.port()));
            }
            long evicted = proxy.onLoop(0, fl -> fl.forwardStats().get(0).sessionsEvicted);
            long lines = proxy.log().lines().filter(l -> l.contains("end=evicted")).count();
            assertTrue(lines >= 1, "the first eviction is logged:\n" + proxy.log());
            assertTrue(lines < evicted / 4, lines + " eviction lines for " + evicted + " evictions");
        } finally {
            for (DatagramSocket c : clients) c.close();
        }
    }
}
