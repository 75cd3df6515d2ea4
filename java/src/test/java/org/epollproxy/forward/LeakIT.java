package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * After rounds of mixed traffic (byte-exact echo transfers, clients resetting mid-transfer, a backend
 * that refuses, half-closes), the proxy is back where it started: the same open fds, no buffer in use
 * and no more pooled native memory than after the first round, and a Java heap (after GC) within a few
 * MB of its baseline.
 *
 * <p>In-process on purpose: it reads the buffer pool's own counters (the jar has no view of them) and
 * the fd table of this JVM, which holds nothing else that changes during the run. The ulimit test
 * (FdLimitIT) covers the packaged jar as a process.
 */
@Isolated("counts the JVM's open fds")
class LeakIT {
    static final int ROUNDS = 4;
    static final int PER_KIND = 25;
    static final long HEAP_SLACK = 8L << 20;

    @Test
    void mixedRoundsLeaveFdsBuffersAndHeapAtTheirBaseline() throws Exception {
        int refusedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            refusedPort = s.getLocalPort(); // closed again: connects to it are refused
        }
        Settings settings = Settings.builder().bufferSize(16 * 1024).build();
        ExecutorService clients = Executors.newFixedThreadPool(8);
        try (TestBackend echo = TestBackend.echo();
                TestProxy proxy = new TestProxy(settings, echo.port(), refusedPort)) {
            BufferPool pool = proxy.proxy.forwardingLoops().get(0).pool();
            long[] fds = new long[ROUNDS];
            long[] heap = new long[ROUNDS];
            long[] pooled = new long[ROUNDS];
            for (int round = 0; round < ROUNDS; round++) {
                runRound(proxy, clients, round);
                TestProxy.await(() -> proxy.proxy.openConnections() == 0, "every connection closed after round " + round);
                // The echo backend's threads close their sockets too, a moment later: after round 0, wait
                // (bounded) until the count is back at the baseline; a leak keeps it above and fails below.
                if (round > 0) {
                    long base = fds[0];
                    awaitQuietly(() -> openFds() <= base);
                }
                fds[round] = openFds();
                heap[round] = heapAfterGc();
                pooled[round] = pool.allocatedBytes();
                assertEquals(0, pool.inUse(), "buffers in use after round " + round);
                System.out.printf("leak check round %d: fds=%d heap=%.1f MB pooled=%d KB%n",
                        round, fds[round], heap[round] / 1048576.0, pooled[round] / 1024);
            }
            // Round 0 warms up (classes, thread pools, lazily opened files); later rounds must match it.
            for (int round = 1; round < ROUNDS; round++) {
                assertTrue(fds[round] <= fds[0], "open fds after round " + round + " (" + fds[round]
                        + ") above the " + fds[0] + " after round 0");
                assertTrue(pooled[round] <= pooled[0] + 4L * settings.bufferSize(),
                        "pooled native memory grew: " + pooled[0] + " -> " + pooled[round]);
                assertTrue(heap[round] <= heap[0] + HEAP_SLACK,
                        "heap after GC grew by " + (heap[round] - heap[0]) / 1024 + " KB by round " + round);
            }
            String log = proxy.log();
            assertTrue(log.contains("end=client-reset") && log.contains("end=backend-refused")
                    && log.contains("end=client-closed"), "every kind of ending happened:\n" + log);
        } finally {
            clients.shutdownNow();
        }
    }

    private static void runRound(TestProxy proxy, ExecutorService pool, int round) throws Exception {
        List<Future<?>> work = new ArrayList<>();
        for (int i = 0; i < PER_KIND; i++) {
            long seed = round * 1000L + i;
            work.add(pool.submit(() -> integrity(proxy, seed)));
            work.add(pool.submit(() -> resetMidTransfer(proxy, seed)));
            work.add(pool.submit(() -> refused(proxy)));
            work.add(pool.submit(() -> halfClose(proxy, seed)));
        }
        for (Future<?> f : work) f.get(60, TimeUnit.SECONDS);
    }

    /** Random bytes out, the same bytes back, then a clean end both ways. */
    private static Void integrity(TestProxy proxy, long seed) throws Exception {
        byte[] data = new byte[1 + new Random(seed).nextInt(256 * 1024)];
        new Random(seed).nextBytes(data);
        try (Socket c = proxy.connect()) {
            Thread writer = new Thread(() -> {
                try {
                    c.getOutputStream().write(data);
                    c.shutdownOutput();
                } catch (IOException ignored) {
                    // the read below fails too
                }
            });
            writer.start();
            byte[] back = c.getInputStream().readAllBytes();
            writer.join();
            assertArrayEquals(data, back, "echo of " + data.length + " bytes");
        }
        return null;
    }

    /** Reads a little of a large echo, then resets with data in flight both ways. */
    private static Void resetMidTransfer(TestProxy proxy, long seed) throws Exception {
        try (Socket c = proxy.connect()) {
            c.getOutputStream().write(new byte[64 * 1024]);
            c.getInputStream().readNBytes(1 + new Random(seed).nextInt(4096));
            c.setSoLinger(true, 0);
        }
        return null;
    }

    /** The second forward's backend refuses: the client sees the connection end. */
    private static Void refused(TestProxy proxy) throws Exception {
        try (Socket c = new Socket()) {
            c.connect(new InetSocketAddress("127.0.0.1", proxy.port(1)), 5000);
            c.setSoTimeout(20_000);
            InputStream in = c.getInputStream();
            try {
                assertEquals(-1, in.read(), "no bytes from a refused backend");
            } catch (IOException reset) {
                // an RST is as good an end as a FIN here
            }
        }
        return null;
    }

    /** Request and FIN first; the reply (the echo) still arrives after the client's half-close. */
    private static Void halfClose(TestProxy proxy, long seed) throws Exception {
        byte[] request = ("request " + seed).getBytes();
        try (Socket c = proxy.connect()) {
            c.getOutputStream().write(request);
            c.shutdownOutput();
            assertArrayEquals(request, c.getInputStream().readAllBytes());
        }
        return null;
    }

    static int openFds() {
        String[] fds = new File("/proc/self/fd").list();
        return fds == null ? -1 : fds.length;
    }

    static long heapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** Polls {@code cond} for up to 5 s; the assertion that follows says what was wrong if it never held. */
    private static void awaitQuietly(java.util.function.BooleanSupplier cond) {
        long end = System.nanoTime() + 5_000_000_000L;
        while (!cond.getAsBoolean() && System.nanoTime() - end < 0) java.util.concurrent.locks.LockSupport.parkNanos(10_000_000L);
    }
}
