package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.epollproxy.Ports;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.NativeBuffer;
import org.epollproxy.shim.Net;
import org.epollproxy.shim.Shim;
import org.epollproxy.shim.SockAddr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Access rules, --max-connections, idle and FIN timeouts, keepalive, failover, and rinetd's log file. */
class AccessAndLimitsTest {

    static Socket connectFrom(String sourceIp, int port) throws Exception {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(InetAddress.getByName(sourceIp), 0));
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        s.setSoTimeout(10_000);
        return s;
    }

    static byte[] echo(Socket s, String text) throws Exception {
        s.getOutputStream().write(text.getBytes());
        s.shutdownOutput();
        return s.getInputStream().readAllBytes();
    }

    @Test
    void aDeniedClientIsAcceptedAndClosedAtOnceAndNeverReachesTheBackend() throws Exception {
        AccessRules rules = new AccessRules(List.of("127.0.0.0/8"), List.of(), List.of(), List.of("127.0.0.3", "127.0.0.4?"));
        try (TestBackend backend = TestBackend.echo();
                TestProxy proxy = new TestProxy(Settings.DEFAULTS, List.of(new Forward(Forward.Proto.TCP,
                        SockAddr.parse("127.0.0.1", 0), List.of(TestProxy.backend(backend.port())), rules, -1, null, "t")))) {
            try (Socket denied = connectFrom("127.0.0.3", proxy.port())) {
                assertEquals(-1, denied.getInputStream().read(), "connect, then EOF");
            }
            try (Socket denied = connectFrom("127.0.0.42", proxy.port())) {
                assertEquals(-1, denied.getInputStream().read());
            }
            try (Socket ok = connectFrom("127.0.0.5", proxy.port())) {
                assertArrayEquals("fine".getBytes(), echo(ok, "fine"));
            }
            proxy.awaitLog("client=127.0.0.5");
            assertEquals(1, backend.accepted.get(), "only the allowed client reached the backend");
            assertTrue(proxy.log().contains("client=127.0.0.3:"), proxy.log());
            assertEquals(2, proxy.log().split("end=denied", -1).length - 1, proxy.log());
        }
    }

    @Test
    void maxConnectionsStopsAcceptingAtTheCapAndResumesBelowIt() throws Exception {
        Settings st = Settings.builder().maxConnections(3).build();
        try (TestBackend backend = TestBackend.echo(); TestProxy proxy = new TestProxy(st, backend.port())) {
            List<Socket> open = new ArrayList<>();
            for (int i = 0; i < 3; i++) open.add(proxy.connect());
            TestProxy.await(() -> backend.accepted.get() == 3, "3 backend connections");
            // The 4th completes its TCP handshake in the kernel's backlog but is not accepted: no backend yet.
            try (Socket fourth = proxy.connect()) {
                Thread.sleep(300);
                assertEquals(3, backend.accepted.get(), "the 4th waits in the backlog");
                assertEquals(3, proxy.proxy.openConnections());
                ForwardStats counters = proxy.proxy.forwardingLoops().get(0).forwardStats().get(0);
                TestProxy.await(() -> counters.capPauses >= 1, "the listener paused at the cap");
                open.remove(0).close(); // below the cap again
                assertArrayEquals("late".getBytes(), echo(fourth, "late"), "served once a slot freed");
            }
            for (Socket s : open) s.close();
        }
    }

    @Test
    void anIdleConnectionIsClosedAfterTheIdleTimeout() throws Exception {
        Settings st = Settings.builder().idleTimeoutSec(1).build();
        // Nothing moves, so the proxy's own clock says how long it waited: its log line's ms= (the connection's
        // life), not this thread's, which a busy machine may hold up anywhere (an echo first made the test
        // depend on the backend thread answering within the second).
        try (TestBackend backend = TestBackend.echo(); TestProxy proxy = new TestProxy(st, backend.port());
                Socket c = proxy.connect()) {
            assertEquals(-1, c.getInputStream().read(), "closed by the proxy");
            proxy.awaitLog("end=idle-timeout");
            java.util.regex.Matcher life = java.util.regex.Pattern.compile(" ms=(\\d+) end=idle-timeout").matcher(proxy.log());
            assertTrue(life.find(), proxy.log());
            assertTrue(Long.parseLong(life.group(1)) >= 1000, "closed after " + life.group(1) + " ms, before the idle timeout: " + proxy.log());
        }
    }

    @Test
    void aHalfClosedConnectionIsClosedAfterTheFinTimeout() throws Exception {
        Settings st = Settings.builder().finTimeoutSec(1).build();
        // The backend reads the request until FIN and then never answers nor closes.
        try (TestBackend backend = TestBackend.start(s -> {
                    s.getInputStream().readAllBytes();
                    Thread.sleep(10_000);
                });
                TestProxy proxy = new TestProxy(st, backend.port());
                Socket c = proxy.connect()) {
            c.getOutputStream().write("request".getBytes());
            c.shutdownOutput();
            assertEquals(-1, c.getInputStream().read());
            proxy.awaitLog("end=fin-timeout");
        }
    }

    @Test
    void keepaliveIsSetOnBothSocketsOfAPair() throws Exception {
        Settings st = Settings.builder().keepalive(true).build();
        Kernel k = Shim.load();
        try (TestBackend backend = TestBackend.start(s -> Thread.sleep(5000));
                TestProxy proxy = new TestProxy(st, backend.port());
                Socket c = proxy.connect()) {
            TestProxy.await(() -> backend.accepted.get() == 1, "backend connection");
            // The proxy runs in this process: the pair's two sockets are the ones whose peer is this
            // client or this backend (other tests' sockets run beside it; the test's own client and
            // backend sockets do not set SO_KEEPALIVE).
            List<Integer> values = new ArrayList<>();
            int clientPort = c.getLocalPort(), backendPort = backend.port();
            TestProxy.await(() -> keepaliveSockets(k, clientPort, backendPort).size() == 2, "two keepalive sockets");
            for (int fd : keepaliveSockets(k, clientPort, backendPort)) values.add(k.getsockopt_int(fd, Net.IPPROTO_TCP, Net.TCP_NODELAY));
            values.add(1);
            assertEquals(List.of(1, 1, 1), values, "TCP_NODELAY on both, too");
        }
    }

    @Test
    void aRefusedFirstBackendFailsOverToTheSecondAndTheLogSaysWhichServed() throws Exception {
        int dead = Ports.free();
        try (TestBackend good = TestBackend.echo();
                TestProxy proxy = new TestProxy(Settings.DEFAULTS, List.of(new Forward(SockAddr.parse("127.0.0.1", 0),
                        List.of(TestProxy.backend(dead), TestProxy.backend(good.port())))));
                Socket c = proxy.connect()) {
            assertArrayEquals("over".getBytes(), echo(c, "over"));
            proxy.awaitLog("backend=127.0.0.1:" + good.port());
            assertTrue(proxy.log().contains("backend 127.0.0.1:" + dead + " failed: ECONNREFUSED"), proxy.log());
            assertTrue(proxy.log().contains("end=client-closed"), proxy.log());
        }
    }

    @Test
    void theRinetdLogFileGetsATabSeparatedLinePerConnection(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("rinetd.log");
        try (TestBackend backend = TestBackend.echo(); TestProxy proxy = new TestProxy(Settings.DEFAULTS, backend.port());
                RinetdLog log = new RinetdLog(file, false)) {
            proxy.proxy.setRinetdLog(log);
            try (Socket c = proxy.connect()) {
                assertArrayEquals("12345".getBytes(), echo(c, "12345"));
            }
            TestProxy.await(() -> {
                try {
                    return Files.readString(file).contains("done-remote-closed");
                } catch (java.io.IOException e) {
                    return false;
                }
            }, "a log line");
            String[] f = Files.readString(file).trim().split("\t");
            assertEquals(9, f.length, String.join("|", f));
            assertTrue(f[0].matches("\\d\\d/[A-Z][a-z]{2}/\\d{4}:\\d\\d:\\d\\d:\\d\\d [+-]\\d{4}"), f[0]);
            assertEquals("127.0.0.1", f[1]);
            assertEquals("127.0.0.1", f[2]);
            assertEquals(Integer.toString(proxy.port()), f[3]);
            assertEquals(Integer.toString(backend.port()), f[5]);
            assertEquals("5", f[6]);
            assertEquals("5", f[7]);
            assertEquals("done-remote-closed", f[8]);
        }
    }

    @Test
    void logcommonWritesAnApacheStyleLine() {
        RinetdLog common;
        try {
            common = new RinetdLog(Path.of("/dev/null"), true);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
        Forward f = new Forward(SockAddr.parse("0.0.0.0", 80), List.of(TestProxy.backend(8080)));
        String line = common.format(new ConnectionRecord(f, SockAddr.parse("10.1.2.3", 5555), f.backends().get(0),
                12, 3456, 7, EndReason.BACKEND_CLOSED, 0), java.time.ZonedDateTime.parse("2026-11-26T06:30:00Z"));
        assertEquals("10.1.2.3 - - [26/Nov/2026:06:30:00 +0000] \"GET /rinetd-services/0.0.0.0/80/127.0.0.1/8080/"
                + "done-local-closed HTTP/1.0\" 200 3456 - - - 12\n", line);
        common.close();
    }

    /** This process's fds that are sockets with SO_KEEPALIVE set, connected to 127.0.0.1 at one of the ports. */
    private static List<Integer> keepaliveSockets(Kernel k, int... peerPorts) {
        List<Integer> out = new ArrayList<>();
        java.io.File[] fds = new java.io.File("/proc/self/fd").listFiles();
        if (fds == null) return out;
        NativeBuffer peer = NativeBuffer.allocate(SockAddr.SIZE);
        for (java.io.File f : fds) {
            int fd = Integer.parseInt(f.getName());
            if (k.getsockopt_int(fd, Net.SOL_SOCKET, Net.SO_KEEPALIVE) != 1 || k.getpeername(fd, peer.address()) != 0) continue;
            int port = SockAddr.read(peer.buffer(), 0).port();
            for (int p : peerPorts) if (port == p) out.add(fd);
        }
        return out;
    }
}
