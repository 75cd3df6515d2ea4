package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.SocketTimeoutException;
import java.util.Arrays;
import java.util.List;
import org.epollproxy.Ports;
import org.epollproxy.shim.SockAddr;
import org.epollproxy.stats.LoopSnapshot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** UDP sessions are as visible as TCP pairs: listed, bytes counted live, ends counted by reason; honest drops. */
class UdpVisibilityTest {
    private DatagramSocket backend;

    @BeforeEach
    void startBackend() throws Exception {
        backend = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        Thread t = new Thread(() -> {
            byte[] b = new byte[65536];
            while (!backend.isClosed()) {
                try {
                    DatagramPacket p = new DatagramPacket(b, b.length);
                    backend.receive(p);
                    byte[] r = new String(b, 0, Math.min(3, p.getLength())).equals("big") ? new byte[2000] : Arrays.copyOf(b, p.getLength());
                    backend.send(new DatagramPacket(r, r.length, p.getSocketAddress()));
                } catch (Exception closed) {
                    return;
                }
            }
        });
        t.setDaemon(true);
        t.start();
    }

    @AfterEach
    void stopBackend() {
        backend.close();
    }

    private static TestProxy proxy(Settings st, int backendPort, int timeoutSec) {
        Forward f = new Forward(Forward.Proto.UDP, SockAddr.parse("127.0.0.1", 0), List.of(TestProxy.backend(backendPort)),
                AccessRules.ALLOW_ALL, timeoutSec, null, "test");
        return new TestProxy(st, List.of(f));
    }

    private static byte[] ask(DatagramSocket c, int port, byte[] p) throws Exception {
        c.send(new DatagramPacket(p, p.length, InetAddress.getLoopbackAddress(), port));
        byte[] b = new byte[65536];
        DatagramPacket r = new DatagramPacket(b, b.length);
        c.receive(r);
        return Arrays.copyOf(b, r.getLength());
    }

    @Test
    void anOpenSessionIsListedWithLiveBytesAndItsEndIsCountedByReason() throws Exception {
        // --max-connections 1: a UDP session must not take the TCP connections' room
        try (TestProxy proxy = proxy(Settings.builder().maxConnections(1).build(), backend.getLocalPort(), 1);
                DatagramSocket c = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            c.setSoTimeout(5000);
            for (int i = 0; i < 3; i++) assertArrayEquals("hello".getBytes(), ask(c, proxy.port(), "hello".getBytes()));
            LoopSnapshot s = proxy.onLoop(0, LoopSnapshot::take);
            assertEquals(1, s.connections().size(), "the session is an open connection of its loop");
            ConnectionInfo info = s.connections().get(0);
            assertEquals("udp", info.state());
            assertEquals("127.0.0.1:" + c.getLocalPort(), info.client());
            assertEquals(15, info.bytesUp());
            assertEquals(15, info.bytesDown());
            assertEquals(15, s.stats().get(0).bytesUp, "forwarded bytes move while the session is open");
            assertEquals(15, s.stats().get(0).bytesDown);
            assertEquals(0, proxy.proxy.openConnections(), "UDP sessions do not count toward --max-connections");
            proxy.awaitLog("end=idle-timeout");
            ForwardStats st = proxy.stats(0);
            assertEquals(1, st.ends[EndReason.IDLE_TIMEOUT.ordinal()], "the end is counted by reason");
            assertEquals(15, st.bytesUp, "the bytes are not counted twice at the end");
            assertEquals(0, proxy.onLoop(0, LoopSnapshot::take).connections().size());
        }
    }

    @Test
    void aBackendWithNothingListeningEndsTheSessionAsBackendRefused() throws Exception {
        int closedPort = Ports.free();
        try (TestProxy proxy = proxy(Settings.DEFAULTS, closedPort, 600);
                DatagramSocket c = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            byte[] p = "anyone?".getBytes();
            c.send(new DatagramPacket(p, p.length, InetAddress.getLoopbackAddress(), proxy.port()));
            proxy.awaitLog("end=backend-refused");
            assertTrue(proxy.log().contains("errno=ECONNREFUSED"), proxy.log());
            ForwardStats st = proxy.stats(0);
            assertEquals(1, st.ends[EndReason.BACKEND_REFUSED.ordinal()]);
            assertEquals(1, st.datagramsDropped, "the one lost datagram is counted once");
            assertEquals(0, st.active);
        }
    }

    @Test
    void aDatagramLongerThanTheReceiveBufferIsDroppedWholeAndCountedEitherWay() throws Exception {
        try (TestProxy proxy = proxy(Settings.DEFAULTS, backend.getLocalPort(), -1);
                DatagramSocket c = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            c.setSoTimeout(5000);
            proxy.onLoop(0, fl -> {
                fl.limitDatagramCapacity(1024);
                return null;
            });
            byte[] big = new byte[2000];
            c.send(new DatagramPacket(big, big.length, InetAddress.getLoopbackAddress(), proxy.port()));
            byte[] fits = new byte[1000];
            Arrays.fill(fits, (byte) 'f');
            assertArrayEquals(fits, ask(c, proxy.port(), fits), "the next datagram that fits goes through whole");
            ForwardStats st = proxy.stats(0);
            assertEquals(1, st.datagramsTruncated, "client to backend: the 2000-byte datagram was cut by the buffer");
            assertEquals(1000, proxy.onLoop(0, LoopSnapshot::take).stats().get(0).bytesUp, "only the datagram that fit reached the backend");
            // backend to client: a 2000-byte reply is dropped at the session socket, never sent cut
            byte[] ask = "big".getBytes();
            c.send(new DatagramPacket(ask, ask.length, InetAddress.getLoopbackAddress(), proxy.port()));
            TestProxy.await(() -> {
                try {
                    return proxy.stats(0).datagramsTruncated == 2;
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }, "the long reply counted as truncated");
            c.setSoTimeout(200);
            assertThrows(SocketTimeoutException.class, () -> c.receive(new DatagramPacket(new byte[4096], 4096)));
            assertEquals(2, proxy.stats(0).datagramsDropped);
        }
    }
}
