package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.epollproxy.runtime.ProxyServer;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.Shim;
import org.epollproxy.shim.SockAddr;
import org.epollproxy.shim.SyscallException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * {@code --threads 2}: two event loops, each with its own epoll fd and its own SO_REUSEPORT listener on
 * the same port; the kernel hashes each new connection (by its 4-tuple) to one of them.
 */
@Isolated("looks for every epoll-loop thread in the JVM")
class ThreadsTest {
    static final int CONNECTIONS = 64;

    static Settings twoLoops() {
        Settings st = Settings.builder().threads(2).build();
        return st;
    }

    /** One request/response through a fresh connection (a new source port each time). */
    static void echoOnce(TestProxy proxy, int i) throws IOException {
        try (Socket c = proxy.connect()) {
            byte[] msg = ("hello " + i).getBytes();
            c.getOutputStream().write(msg);
            c.shutdownOutput();
            assertEquals(new String(msg), new String(c.getInputStream().readAllBytes()));
        }
    }

    @Test
    void bothLoopsAcceptAndForwardConnectionsOnTheSharedPort() throws Exception {
        try (TestBackend backend = TestBackend.echo(); TestProxy proxy = new TestProxy(twoLoops(), backend.port())) {
            for (int i = 0; i < CONNECTIONS; i++) echoOnce(proxy, i);
            TestProxy.await(() -> proxy.proxy.openConnections() == 0, "every pair closed");
            long total = 0;
            for (int loop = 0; loop < 2; loop++) {
                ForwardStats st = proxy.onLoop(loop, fw -> fw.forwardStats().get(0));
                // 64 connections from 64 source ports: all on one loop has probability 2^-63.
                assertTrue(st.accepted > 0, "loop " + loop + " accepted none of " + CONNECTIONS);
                assertEquals(st.accepted, st.ends[EndReason.CLIENT_CLOSED.ordinal()], "loop " + loop + " forwarded each to the end");
                total += st.accepted;
            }
            assertEquals(CONNECTIONS, total);
        }
    }

    @Test
    void stopReachesEveryLoopAndClosesTheConnectionsOfEach() throws Exception {
        TestBackend backend = TestBackend.echo();
        TestProxy proxy = new TestProxy(twoLoops(), backend.port());
        List<Socket> clients = new ArrayList<>();
        try {
            for (int i = 0; i < CONNECTIONS; i++) {
                Socket c = proxy.connect();
                c.getOutputStream().write('x');
                assertEquals('x', c.getInputStream().read()); // the pair is up
                clients.add(c);
            }
            for (int loop = 0; loop < 2; loop++) {
                assertTrue(proxy.onLoop(loop, ForwardingLoop::openConnections) > 0, "loop " + loop + " holds open pairs");
            }
            List<Thread> loopThreads = new ArrayList<>();
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                if (t.getName().startsWith("epoll-loop-")) loopThreads.add(t);
            }
            assertTrue(proxy.proxy.stop(10, TimeUnit.SECONDS), "every loop stopped");
            for (Thread t : loopThreads) {
                t.join(5000);
                assertFalse(t.isAlive(), t.getName() + " still runs");
            }
            for (Socket c : clients) assertEquals(-1, readOrReset(c), "each client's connection was closed");
            assertEquals(0, proxy.proxy.openConnections());
            assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", proxy.port()).close(), "nothing listens");
        } finally {
            for (Socket c : clients) c.close();
            backend.close();
        }
    }

    @Test
    void itNeverJoinsAnotherSocketsReusePortGroup() throws Exception {
        try (ServerSocket other = new ServerSocket()) {
            other.setOption(StandardSocketOptions.SO_REUSEPORT, true);
            other.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            int port = other.getLocalPort();
            Settings st = twoLoops();
            ProxyServer proxy = new ProxyServer(Shim.load(), st, System.err);
            Forward f = new Forward(SockAddr.parse("127.0.0.1", port), TestProxy.tcpForwards(9).get(0).backends());
            SyscallException e = assertThrows(SyscallException.class, () -> proxy.start(List.of(f)));
            assertEquals(Errno.EADDRINUSE, e.errno(), e.getMessage());
        }
    }

    private static int readOrReset(Socket c) {
        try {
            c.setSoTimeout(10_000);
            return c.getInputStream().read();
        } catch (IOException reset) {
            return -1;
        }
    }
}
