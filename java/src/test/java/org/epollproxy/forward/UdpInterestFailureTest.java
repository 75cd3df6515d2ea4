package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.epollproxy.shim.Epoll;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.InterposedKernel;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.Net;
import org.epollproxy.shim.Shim;
import org.epollproxy.shim.SockAddr;
import org.junit.jupiter.api.Test;

/**
 * epoll_ctl refuses (ENOMEM) to watch a new UDP session's backend socket: the session must not live on
 * deaf, forwarding the client's datagrams while no reply is ever read (client traffic keeps it from
 * idling out); it is dropped at once, and the client's next datagram gets a working session.
 */
class UdpInterestFailureTest {

    /** The real shim, except that the first EPOLL_CTL_ADD of a connected UDP socket fails with ENOMEM. */
    static Kernel failingFirstSessionAdd(Kernel real) {
        Set<Integer> dgram = ConcurrentHashMap.newKeySet();
        Set<Integer> connected = ConcurrentHashMap.newKeySet();
        AtomicBoolean failed = new AtomicBoolean();
        return InterposedKernel.over(real, (name, args, call) -> {
            if (name.equals("epoll_ctl") && (Integer) args[1] == Epoll.EPOLL_CTL_ADD && connected.contains((Integer) args[2])
                    && failed.compareAndSet(false, true)) {
                return -Errno.ENOMEM;
            }
            Object r = call.invoke();
            if (name.equals("socket") && ((Integer) args[1] & 0xf) == Net.SOCK_DGRAM && (Integer) r >= 0) dgram.add((Integer) r);
            if (name.equals("connect") && dgram.contains((Integer) args[0]) && (Integer) r == 0) connected.add((Integer) args[0]);
            if (name.equals("close")) {
                dgram.remove((Integer) args[0]);
                connected.remove((Integer) args[0]);
            }
            return r;
        });
    }

    @Test
    void aSessionThatCannotBeWatchedIsDroppedAndTheNextDatagramGetsAWorkingOne() throws Exception {
        try (DatagramSocket backend = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                DatagramSocket client = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            Thread echo = new Thread(() -> {
                byte[] b = new byte[2048];
                while (!backend.isClosed()) {
                    try {
                        DatagramPacket p = new DatagramPacket(b, b.length);
                        backend.receive(p);
                        backend.send(new DatagramPacket(Arrays.copyOf(b, p.getLength()), p.getLength(), p.getSocketAddress()));
                    } catch (Exception closed) {
                        return;
                    }
                }
            });
            echo.setDaemon(true);
            echo.start();
            Forward f = new Forward(Forward.Proto.UDP, SockAddr.parse("127.0.0.1", 0),
                    List.of(TestProxy.backend(backend.getLocalPort())), AccessRules.ALLOW_ALL, -1, null, "test");
            try (TestProxy proxy = new TestProxy(failingFirstSessionAdd(Shim.load()), Settings.DEFAULTS, List.of(f))) {
                client.setSoTimeout(500);
                byte[] msg = "ping".getBytes();
                byte[] reply = null;
                for (int attempt = 0; attempt < 6 && reply == null; attempt++) {
                    client.send(new DatagramPacket(msg, msg.length, InetAddress.getLoopbackAddress(), proxy.port()));
                    try {
                        DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
                        client.receive(p);
                        reply = Arrays.copyOf(p.getData(), p.getLength());
                    } catch (SocketTimeoutException lost) {
                        // UDP: the first datagram may be dropped with its session; send again
                    }
                }
                assertTrue(reply != null, "no reply in 6 attempts: the session stayed deaf. Log:\n" + proxy.log());
                assertArrayEquals(msg, reply);
                assertTrue(proxy.log().contains("ENOMEM"), "the failure was logged:\n" + proxy.log());
            }
        }
    }

    /**
     * socket() fails (EMFILE) for every new session, as when fds run out under a flood of new source
     * addresses: one log line starts the episode and one ends it, not one per datagram.
     */
    @Test
    void sessionsThatCannotOpenAreLoggedOncePerEpisode() throws Exception {
        AtomicBoolean failing = new AtomicBoolean();
        Kernel k = InterposedKernel.over(Shim.load(), (name, args, call) -> {
            if (name.equals("socket") && ((Integer) args[1] & 0xf) == Net.SOCK_DGRAM && failing.get()) return -Errno.EMFILE;
            return call.invoke();
        });
        try (DatagramSocket backend = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                DatagramSocket client = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            Forward f = new Forward(Forward.Proto.UDP, SockAddr.parse("127.0.0.1", 0),
                    List.of(TestProxy.backend(backend.getLocalPort())), AccessRules.ALLOW_ALL, -1, null, "test");
            try (TestProxy proxy = new TestProxy(k, Settings.DEFAULTS, List.of(f))) {
                failing.set(true);
                byte[] msg = "ping".getBytes();
                long end = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(TestProxy.AWAIT_S);
                while (proxy.onLoop(0, fl -> fl.forwardStats().get(0).datagramsIn) < 100) { // each one tries to open a session
                    assertTrue(System.nanoTime() < end, "100 datagrams did not arrive");
                    for (int i = 0; i < 10; i++) client.send(new DatagramPacket(msg, msg.length, InetAddress.getLoopbackAddress(), proxy.port()));
                }
                long lines = proxy.log().lines().filter(l -> l.contains("socket: EMFILE")).count();
                assertEquals(1, lines, "one line for the episode:\n" + proxy.log());
                failing.set(false);
                client.send(new DatagramPacket(msg, msg.length, InetAddress.getLoopbackAddress(), proxy.port()));
                proxy.awaitLog("sessions open again;");
                backend.setSoTimeout(30_000);
                backend.receive(new DatagramPacket(new byte[64], 64)); // the new session forwarded it
            }
        }
    }
}
