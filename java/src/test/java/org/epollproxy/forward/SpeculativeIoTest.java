package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.epollproxy.shim.Epoll;
import org.epollproxy.shim.InterposedKernel;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.Net;
import org.epollproxy.shim.Shim;
import org.epollproxy.shim.SockAddr;
import org.junit.jupiter.api.Test;

/**
 * The syscalls a plain connection costs (docs/internals.md, "Speculative I/O"), counted on the real
 * kernel through a recording decorator of the shim: accepted sockets come with TCP_NODELAY from their
 * listener, the client's first bytes are read before the first epoll_wait, and to a loopback backend
 * they are sent before any EPOLLOUT is asked for.
 */
class SpeculativeIoTest {
    /** One call as recorded: its name, its fd, one argument of interest and its result. */
    record Call(String name, int fd, int arg, int result) {}

    private final List<Call> calls = Collections.synchronizedList(new ArrayList<>());
    /**
     * When set, an accept that got a client returns only once the test's client has written its request
     * (a permit per client): its bytes are then in the accepted socket before the proxy sees it, as they
     * mostly are for a real client (a request follows the handshake at once), but here always.
     */
    private volatile Semaphore written;

    private Kernel recording(Kernel real) {
        return InterposedKernel.over(real, (name, args, call) -> {
            Object r = call.invoke();
            switch (name) {
                case "accept" -> {
                    int fd = (Integer) r;
                    if (fd >= 0) {
                        Semaphore w = written;
                        if (w != null) assertTrue(w.tryAcquire(30, TimeUnit.SECONDS), "the client wrote");
                        // TCP_NODELAY as the proxy gets the socket, before it could set anything on it
                        calls.add(new Call(name, fd, real.getsockopt_int(fd, Net.IPPROTO_TCP, Net.TCP_NODELAY), fd));
                    }
                }
                case "setsockopt_int" -> calls.add(new Call(name, (Integer) args[0], (Integer) args[2], (Integer) r));
                case "epoll_ctl" -> calls.add(new Call(name + "/" + args[1], (Integer) args[2], (Integer) args[3], (Integer) r));
                case "recv", "send", "close", "socket" -> calls.add(new Call(name, name.equals("socket") ? (Integer) r : (Integer) args[0], 0, (Integer) r));
                case "epoll_wait" -> calls.add(new Call(name, -1, 0, (Integer) r));
                default -> { }
            }
            return r;
        });
    }

    private List<Call> snapshot() {
        synchronized (calls) {
            return new ArrayList<>(calls);
        }
    }

    /** The calls on the accepted fd {@code at} (the index of its accept) until it is closed. */
    private static List<Call> life(List<Call> all, int at) {
        int fd = all.get(at).fd();
        List<Call> out = new ArrayList<>();
        for (int i = at + 1; i < all.size(); i++) {
            Call c = all.get(i);
            if (c.fd() == fd || c.name().equals("epoll_wait")) out.add(c);
            if (c.fd() == fd && c.name().equals("close")) break;
        }
        return out;
    }

    /** One request of {@code size} bytes, its echo, and the client's close; returns once the proxy logged the end. */
    private void oneRequest(TestProxy proxy, InetAddress via, int size, int ends) throws Exception {
        byte[] req = new byte[size];
        Arrays.fill(req, (byte) 'x');
        try (Socket c = new Socket()) {
            c.connect(new InetSocketAddress(via, proxy.port()), 5000);
            c.setSoTimeout(20_000);
            c.getOutputStream().write(req);
            Semaphore w = written;
            if (w != null) w.release();
            assertArrayEquals(req, c.getInputStream().readNBytes(size));
        }
        TestProxy.await(() -> proxy.log().split(" end=", -1).length - 1 >= ends, "end line " + ends + ":\n" + proxy.log());
    }

    private static int acceptIndex(List<Call> all, int nth) {
        int seen = 0;
        for (int i = 0; i < all.size(); i++) {
            if (all.get(i).name().equals("accept") && seen++ == nth) return i;
        }
        throw new AssertionError("accept " + nth + " not recorded: " + all);
    }

    @Test
    void acceptedSocketsComeWithTcpNodelayFromTheirListenerOverIpv4AndIpv6() throws Exception {
        try (TestBackend backend = TestBackend.echo()) {
            List<Forward> fs = List.of(
                    new Forward(SockAddr.parse("127.0.0.1", 0), List.of(TestProxy.backend(backend.port()))),
                    new Forward(SockAddr.parse("[::1]", 0), List.of(TestProxy.backend(backend.port()))));
            try (TestProxy proxy = new TestProxy(recording(Shim.load()), Settings.DEFAULTS, fs)) {
                int ends = 0;
                for (int f = 0; f < 2; f++) {
                    InetAddress via = InetAddress.getByName(f == 0 ? "127.0.0.1" : "::1");
                    for (int i = 0; i < 3; i++) {
                        try (Socket c = new Socket()) {
                            c.connect(new InetSocketAddress(via, proxy.port(f)), 5000);
                            c.setSoTimeout(20_000);
                            c.getOutputStream().write("hello".getBytes());
                            assertArrayEquals("hello".getBytes(), c.getInputStream().readNBytes(5));
                        }
                        ends++;
                        int want = ends;
                        TestProxy.await(() -> proxy.log().split(" end=", -1).length - 1 >= want, "end lines");
                    }
                }
                List<Call> all = snapshot();
                for (int n = 0; n < 6; n++) {
                    int at = acceptIndex(all, n);
                    assertEquals(1, all.get(at).arg(), "accepted socket " + n + " has TCP_NODELAY at accept: " + all.get(at));
                    for (Call c : life(all, at)) {
                        assertTrue(!(c.name().equals("setsockopt_int") && c.arg() == Net.TCP_NODELAY),
                                "no TCP_NODELAY set on accepted socket " + n + ": " + life(all, at));
                    }
                }
            }
        }
    }

    /** Which backends get the send right after connect: those where the handshake ends inside connect(). */
    @Test
    void loopbackAddressesAreTheOnesWhoseConnectEndsInsideTheCall() {
        for (String a : List.of("127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1")) assertTrue(SockAddr.parse(a, 80).isLoopback(), a);
        for (String a : List.of("10.0.0.1", "128.0.0.1", "::2", "::ffff:10.0.0.1", "fe80::1", "0.0.0.0", "::")) {
            assertTrue(!SockAddr.parse(a, 80).isLoopback(), a);
        }
        assertTrue(!SockAddr.unix("/run/app.sock").isLoopback());
    }

    /** A listening socket the proxy did not make (socket activation, a takeover) gets TCP_NODELAY from it too. */
    @Test
    void anInheritedListenerIsGivenTcpNodelayForTheSocketsItAccepts() throws Exception {
        Kernel k = recording(Shim.load());
        try (TestBackend backend = TestBackend.echo()) {
            int port = org.epollproxy.Ports.free();
            int fd = Sockets.listenTcp(Shim.load(), SockAddr.parse("127.0.0.1", port), false, 128); // no TCP_NODELAY on it
            Forward f = new Forward(SockAddr.parse("127.0.0.1", port), List.of(TestProxy.backend(backend.port())));
            java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
            org.epollproxy.runtime.ProxyServer proxy = new org.epollproxy.runtime.ProxyServer(k, Settings.DEFAULTS,
                    new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
            try {
                proxy.start(List.of(f), java.util.Map.of(f.key(), new int[] {fd}));
                try (Socket c = new Socket()) {
                    c.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                    c.setSoTimeout(20_000);
                    c.getOutputStream().write("hello".getBytes());
                    assertArrayEquals("hello".getBytes(), c.getInputStream().readNBytes(5));
                }
                List<Call> all = snapshot();
                int at = acceptIndex(all, 0);
                assertEquals(1, all.get(at).arg(), "the accepted socket has TCP_NODELAY at accept: " + all);
                for (Call c : life(all, at)) {
                    assertTrue(!(c.name().equals("setsockopt_int") && c.arg() == Net.TCP_NODELAY), "no TCP_NODELAY of its own: " + all);
                }
            } finally {
                assertTrue(proxy.stop(5, TimeUnit.SECONDS), "the proxy stopped");
            }
        }
    }

    @Test
    void theClientsFirstBytesAreReadBeforeTheFirstEpollWait() throws Exception {
        written = new Semaphore(0);
        try (TestBackend backend = TestBackend.echo();
                TestProxy proxy = new TestProxy(recording(Shim.load()), Settings.DEFAULTS, TestProxy.tcpForwards(backend.port()))) {
            oneRequest(proxy, InetAddress.getByName("127.0.0.1"), 64, 1);
            List<Call> life = life(snapshot(), acceptIndex(snapshot(), 0));
            Call first = life.stream().filter(c -> !c.name().equals("setsockopt_int")).findFirst().orElseThrow();
            assertEquals("recv", first.name(), "the first thing done with the client after accept: " + life);
            assertEquals(64, first.result(), "its request was there: " + life);
        }
    }

    @Test
    void toALoopbackBackendTheRequestIsSentWithoutWaitingForEpollout() throws Exception {
        written = new Semaphore(0);
        int n = 20;
        try (TestBackend backend = TestBackend.echo();
                TestProxy proxy = new TestProxy(recording(Shim.load()), Settings.DEFAULTS, TestProxy.tcpForwards(backend.port()))) {
            for (int i = 0; i < n; i++) oneRequest(proxy, InetAddress.getByName("127.0.0.1"), 64, i + 1);
            List<Call> all = snapshot();
            long outs = all.stream().filter(c -> c.name().startsWith("epoll_ctl") && (c.arg() & Epoll.EPOLLOUT) != 0).count();
            long ctls = all.stream().filter(c -> c.name().startsWith("epoll_ctl")).count();
            // Without the speculative send every connection registers its backend for EPOLLOUT and then MODs it
            // to EPOLLIN. The loopback connect is over when connect() returns, so nearly every send succeeds at
            // once; a loaded machine may defer the handshake's softirq to ksoftirqd, so not all of them must.
            assertTrue(outs < n / 2, outs + " epoll_ctl with EPOLLOUT over " + n + " connections; the first calls: " + all.subList(0, Math.min(40, all.size())));
            // ADD backend IN, ADD client IN, DEL client at its FIN (4 per connection before), plus the listener's ADD.
            assertTrue(ctls < 4L * n, ctls + " epoll_ctl over " + n + " connections");
            assertTrue(proxy.log().contains("end=client-closed") || proxy.log().contains("end=backend-closed"), proxy.log());
        }
    }
}
