package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.epollproxy.Ports;
import org.epollproxy.shim.InterposedKernel;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.SyscallException;
import org.epollproxy.shim.Shim;
import org.epollproxy.shim.SockAddr;
import org.junit.jupiter.api.Test;

/**
 * The proxy against epoll(7)'s "closing an fd does not remove it while a dup is open" (lesson 12,
 * {@code ClosedWithDupTest}). A listening socket may have copies outside the proxy: the new process's after
 * a takeover, systemd's under socket activation. When a reload stops such a listener, closing our fd alone
 * would leave its registration in the loop's epoll set: every connection queued on the copy would then wake
 * the level-triggered loop, on every wait, with an event for a slot already released (a busy loop of stale
 * events). {@code TcpListener.close} deletes the registration before closing (the TCP test fails without
 * that DEL); {@code UdpListener.close} drops its interest to 0, which is a DEL, and deletes again before
 * closing (the UDP test fails only without both).
 */
class SharedListenerCloseTest {
    @Test
    void aStoppedListenerWhoseSocketLivesOnElsewhereNoLongerWakesTheLoop() throws Exception {
        try (TestBackend backend = TestBackend.echo()) {
            stopAListenerWithACopyAlive(Forward.Proto.TCP, backend.port(), port -> {
                // The copy still listens: the kernel completes this handshake and queues the connection on it.
                try (Socket client = new Socket()) {
                    client.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
                }
            });
        }
    }

    @Test
    void aStoppedUdpListenerWhoseSocketLivesOnElsewhereNoLongerWakesTheLoop() throws Exception {
        try (DatagramSocket backend = new DatagramSocket(0, InetAddress.getLoopbackAddress());
                DatagramSocket client = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            stopAListenerWithACopyAlive(Forward.Proto.UDP, backend.getLocalPort(), port -> {
                byte[] b = {'x'}; // queued on the copy: the socket is readable
                client.send(new DatagramPacket(b, 1, InetAddress.getLoopbackAddress(), port));
            });
        }
    }

    interface Traffic {
        void to(int port) throws Exception;
    }

    /**
     * Two forwards; a copy of the first's socket is taken (as a takeover's new process holds one), a reload
     * removes that forward, {@code traffic} makes the copy readable, and the loop must not hear of it.
     */
    private static void stopAListenerWithACopyAlive(Forward.Proto proto, int backendPort, Traffic traffic) throws Exception {
        Kernel real = Shim.load();
        Map<Integer, Integer> listenerByPort = new ConcurrentHashMap<>();
        Kernel k = InterposedKernel.over(real, (name, args, call) -> {
            Object rc = call.invoke();
            if (name.equals("bind") && (Integer) rc == 0) {
                int fd = (Integer) args[0];
                listenerByPort.put(Sockets.localAddress(real, fd).port(), fd);
            }
            return rc;
        });
        // Two ports from Ports.free(), bound only when the proxy starts: a program outside this JVM that binds
        // random ports (a resolver choosing its source port) took one of them in between once, so the start is
        // tried again on other ports when a bind finds its port taken.
        int portA = 0, portB = 0;
        TestProxy started = null;
        for (int tries = 1; started == null; tries++) {
            portA = Ports.free();
            portB = Ports.free();
            try {
                started = new TestProxy(k, Settings.DEFAULTS, List.of(forward(proto, portA, backendPort), forward(proto, portB, backendPort)));
            } catch (SyscallException e) {
                if (e.errno() != Errno.EADDRINUSE || tries == 5) throw e;
                listenerByPort.clear();
            }
        }
        try (TestProxy proxy = started) {
            int copy = real.dup(listenerByPort.get(portA)); // what another process holds after a takeover
            assertTrue(copy >= 0);
            try {
                assertEquals("0 added, 1 removed, 0 changed, 1 unchanged", proxy.proxy.reconfigure(List.of(forward(proto, portB, backendPort))));
                traffic.to(portA);
                for (int i = 0; i < 3; i++) { // each round trip is a full loop iteration: events, then tasks
                    long stale = proxy.onLoop(0, fl -> fl.loop().stats().staleEvents);
                    assertEquals(0, stale, "the removed listener's socket still wakes the loop");
                }
            } finally {
                real.close(copy);
            }
        }
    }

    private static Forward forward(Forward.Proto proto, int port, int backendPort) {
        SockAddr bind = SockAddr.parse("127.0.0.1", port);
        List<Backend> backends = List.of(TestProxy.backend(backendPort));
        return proto == Forward.Proto.TCP ? new Forward(bind, backends) : new Forward(Forward.Proto.UDP, bind, backends, AccessRules.ALLOW_ALL, 60, null, "test");
    }
}
