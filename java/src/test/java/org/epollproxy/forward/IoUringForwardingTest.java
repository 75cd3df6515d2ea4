package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.epollproxy.loop.LoopStats;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.InterposedKernel;
import org.epollproxy.shim.IoUring;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.Rings;
import org.epollproxy.shim.Shim;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Forwarding on a loop that waits and sends through io_uring ({@code --io-uring}): the same bytes as on
 * epoll, the kernel finishing the sends a slow reader holds up, and a connection that closes while the
 * kernel still holds one of its sends gives back its buffer and really closes its sockets.
 */
class IoUringForwardingTest {
    private static final Settings RING = Settings.builder().ioUring(true).build();
    /**
     * The largest buffers (64 MiB, taken from the C heap as bytes arrive): a quarter of one is more than any
     * socket's receive queue holds, so every recv counts as a message and its send goes through the ring
     * (bulk, a quarter of the buffer or more, is sent with send(2): Direction.canSendAsync).
     */
    private static final Settings RING_BIG_BUFFERS = RING.toBuilder().bufferSize(64 << 20).build();

    @BeforeAll
    static void kernelAllowsARing() {
        Rings.assumeAllowed();
    }

    private static LoopStats loopStats(TestProxy proxy) throws Exception {
        return proxy.onLoop(0, fl -> fl.loop().stats().copy());
    }

    @Test
    void bytesCrossBothWaysIntactAndTheSendsGoThroughTheRing() throws Exception {
        long size = 8L << 20;
        try (TestBackend backend = TestBackend.echo();
                TestProxy proxy = new TestProxy(RING, backend.port());
                Socket c = proxy.connect()) {
            // Messages first: each one's send, both ways, through the ring.
            byte[] answer = new byte[7];
            for (int i = 0; i < 50; i++) {
                byte[] ping = String.format("ping %02d", i).getBytes();
                c.getOutputStream().write(ping);
                assertEquals(7, c.getInputStream().readNBytes(answer, 0, 7));
                assertEquals(new String(ping), new String(answer));
            }
            // (the first ping rides on the send right after the loopback connect, a plain send(2): Connector)
            assertTrue(loopStats(proxy).ringSends >= 99, "each message's sends went through the ring: " + loopStats(proxy).ringSends);
            // Then bulk both ways, full buffers and short ones mixed, with a half-close.
            CompletableFuture<String> back = CompletableFuture.supplyAsync(() -> {
                try {
                    return SeededStream.read(c.getInputStream(), 11);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            SeededStream.write(c.getOutputStream(), 11, size);
            c.shutdownOutput(); // half-close: the echo backend answers the rest, then closes
            assertEquals(SeededStream.intact(size), back.get(60, TimeUnit.SECONDS), "client -> backend -> client");
            proxy.awaitLog("end=client-closed");
            LoopStats st = loopStats(proxy);
            assertEquals(1, st.ioUring, "the loop runs on io_uring");
            assertEquals(0, st.ringSendErrors);
            assertEquals(0, st.ringSendsCancelled);
            assertEquals(0L, (long) proxy.onLoop(0, fl -> fl.pool().inUse()), "every buffer back in the pool");
        }
    }

    @Test
    void aSlowReaderGetsEverythingTheKernelHeldForIt() throws Exception {
        int size = 32 << 20; // more than loopback's socket buffers hold between them
        try (TestBackend backend = TestBackend.start(s -> {
                    SeededStream.write(s.getOutputStream(), 5, size);
                    s.close();
                });
                TestProxy proxy = new TestProxy(RING_BIG_BUFFERS, backend.port());
                Socket c = proxy.connect()) {
            // The client does not read: the send toward it stalls in the kernel with its buffer.
            assertEquals(1, BackpressureTest.awaitOneHeld(() -> proxy.onLoop(0, fl -> (long) fl.pool().inUse())),
                    "one buffer held by the send the client holds up");
            assertEquals(SeededStream.intact(size), SeededStream.read(c.getInputStream(), 5), "backend -> client");
        }
    }

    @Test
    void aConnectionThatEndsWhileTheKernelHoldsItsSendIsReallyClosed() throws Exception {
        // The idle timeout ends a pair whose send to a client that stopped reading never finishes: the
        // send is cancelled, the buffer comes back once the kernel lets go of it, and the client's socket
        // is reset (bytes were lost), which only happens once no send holds the proxy's socket any more.
        CountDownLatch backendDone = new CountDownLatch(1);
        Settings st = RING_BIG_BUFFERS.toBuilder().idleTimeoutSec(1).build();
        try (TestBackend backend = TestBackend.start(s -> {
                    OutputStream out = s.getOutputStream();
                    byte[] chunk = new byte[64 * 1024];
                    try {
                        for (int i = 0; i < 4096; i++) out.write(chunk); // until the proxy stops taking
                    } catch (SocketException e) {
                        // reset once the pair ends
                    }
                    backendDone.countDown();
                });
                TestProxy proxy = new TestProxy(st, backend.port());
                Socket c = proxy.connect()) {
            proxy.awaitLog("end=idle-timeout");
            TestProxy.await(() -> inUse(proxy) == 0, "the buffer of the cancelled send back in the pool");
            InputStream in = c.getInputStream();
            byte[] b = new byte[1 << 16];
            assertThrows(SocketException.class, () -> {
                while (in.read(b) >= 0) {
                    // what reached the client before the reset
                }
            }, "the client's connection is reset, not left open by the cancelled send");
            assertTrue(backendDone.await(30, TimeUnit.SECONDS), "the backend's side ended too");
            assertEquals(1, loopStats(proxy).ringSendsCancelled, "the send the client held up was cancelled");
        }
    }

    /**
     * The proxy stops while the kernel holds a send to a client that stopped reading: the pair is reset, its
     * send cancelled, and the buffer comes back at the send's completion, after the pool was closed (the loop
     * closes its ring, and waits for that completion, last). It went to the closed pool's idle list and was
     * never freed: every stop with a held send leaked a buffer.
     */
    @Test
    void aSendHeldWhenTheProxyStopsGivesItsBufferBackToTheCHeap() throws Exception {
        try (TestBackend backend = TestBackend.start(s -> {
                    try {
                        SeededStream.write(s.getOutputStream(), 5, 32 << 20);
                    } catch (SocketException reset) {
                        // the proxy stopped
                    }
                    s.close();
                });
                TestProxy proxy = new TestProxy(RING_BIG_BUFFERS, backend.port());
                Socket c = proxy.connect()) {
            awaitASendTheKernelHolds(proxy);
            BufferPool pool = proxy.onLoop(0, ForwardingLoop::pool);
            assertTrue(proxy.proxy.stop(30, TimeUnit.SECONDS));
            assertEquals(1, proxy.proxy.loops().get(0).stats().ringSendsCancelled, "the held send was cancelled");
            assertEquals(0, pool.inUse(), "the buffer came back");
            assertEquals(0, pool.allocatedBytes(), "and went back to malloc: the pool was closed");
        }
    }

    /**
     * Until one buffer is in use and no send was handed to the ring for a second: the client's socket and the
     * proxy's send buffer are full and the last send waits in the kernel. One buffer in use alone is also the
     * moment right after a recv, whose send may not be handed over yet or may finish at once, and a stop
     * then cancels nothing.
     */
    private static void awaitASendTheKernelHolds(TestProxy proxy) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        long sends = -1;
        int still = 0;
        while (still < 5) {
            assertTrue(System.nanoTime() < deadline, "no send held by the kernel within 60 s");
            Thread.sleep(200);
            long now = loopStats(proxy).ringSends;
            boolean oneHeld = proxy.onLoop(0, fl -> fl.pool().inUse()) == 1;
            still = oneHeld && now == sends && now > 0 ? still + 1 : 0;
            sends = now;
        }
    }

    /** --threads 2: each loop makes its own ring on its own thread; with --splice, bulk still goes through pipes. */
    @Test
    void twoLoopsEachOnARingOfItsOwnAndSpliceBeside() throws Exception {
        Settings st = RING.toBuilder().threads(2).splice(true).build();
        long size = 4L << 20;
        try (TestBackend backend = TestBackend.echo(); TestProxy proxy = new TestProxy(st, backend.port())) {
            for (int i = 0; i < 16; i++) { // SO_REUSEPORT spreads them over both loops
                final int seed = i;
                try (Socket c = proxy.connect()) {
                    CompletableFuture<String> back = CompletableFuture.supplyAsync(() -> {
                        try {
                            return SeededStream.read(c.getInputStream(), seed);
                        } catch (Exception e) {
                            throw new RuntimeException(e);
                        }
                    });
                    SeededStream.write(c.getOutputStream(), i, i % 4 == 0 ? size : 100);
                    c.shutdownOutput();
                    assertEquals(SeededStream.intact(i % 4 == 0 ? size : 100), back.get(60, TimeUnit.SECONDS), "connection " + i);
                }
            }
            for (int loop = 0; loop < 2; loop++) {
                assertEquals(1L, (long) proxy.onLoop(loop, fl -> fl.loop().stats().ioUring), "loop " + loop + " on its ring");
            }
            TestProxy.await(() -> inUse(proxy) == 0, "every buffer back");
        }
    }

    @Test
    void aKernelThatRefusesARingLeavesTheLoopOnEpollAndSaysSo() throws Exception {
        Kernel refusing = InterposedKernel.over(Shim.load(), (name, args, call) ->
                name.equals("io_uring_setup") ? -Errno.EPERM : call.invoke());
        try (TestBackend backend = TestBackend.echo();
                TestProxy proxy = new TestProxy(refusing, RING, backend.port());
                Socket c = proxy.connect()) {
            c.getOutputStream().write("ping".getBytes());
            byte[] b = new byte[4];
            assertEquals(4, c.getInputStream().readNBytes(b, 0, 4));
            proxy.awaitLog("loop 0: io_uring refused (io_uring_setup");
            assertTrue(proxy.log().contains("EPERM") && proxy.log().contains("this loop uses epoll"), proxy.log());
            assertEquals(0, loopStats(proxy).ioUring);
        }
    }

    private static long inUse(TestProxy proxy) {
        try {
            return proxy.onLoop(0, fl -> fl.pool().inUse());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
