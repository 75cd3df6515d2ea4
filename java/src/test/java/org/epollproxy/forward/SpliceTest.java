package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.epollproxy.shim.InterposedKernel;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.Shim;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code --splice}: bytes cross socket -> pipe -> socket and never enter user space. The spliced-bytes
 * counters prove the zero-copy path carried them; the same integrity, half-close, reset and
 * backpressure rules as the copy path hold; a refused splice falls back to copying, counted.
 */
class SpliceTest {
    static final int MIB = 1 << 20;

    static Settings splicing() {
        Settings st = Settings.builder().splice(true).build();
        return st;
    }

    /** Sends {@code size} seeded bytes each way at once through {@code proxy}; asserts every byte of both. */
    static void bothWaysIntact(TestProxy proxy, CompletableFuture<String> backendGot, int size) throws Exception {
        try (Socket c = proxy.connect()) {
            CompletableFuture<String> clientGot = CompletableFuture.supplyAsync(() -> {
                try {
                    return SeededStream.read(c.getInputStream(), 12);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            SeededStream.write(c.getOutputStream(), 11, size);
            c.shutdownOutput();
            assertEquals(SeededStream.intact(size), backendGot.get(60, TimeUnit.SECONDS), "client -> backend");
            assertEquals(SeededStream.intact(size), clientGot.get(60, TimeUnit.SECONDS), "backend -> client");
        }
        proxy.awaitLog("up=" + size + " down=" + size);
    }

    /** A backend that sends {@code size} seeded bytes while it reads the client's to EOF; {@code got}: what it read. */
    static TestBackend exchanging(int size, CompletableFuture<String> got) throws IOException {
        return TestBackend.start(s -> {
            CompletableFuture<String> reader = CompletableFuture.supplyAsync(() -> {
                try {
                    return SeededStream.read(s.getInputStream(), 11);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            SeededStream.write(s.getOutputStream(), 12, size);
            s.shutdownOutput();
            got.complete(reader.get());
        });
    }

    @Test
    void thirtyTwoMebibytesEachWayAreSplicedIntact() throws Exception {
        int size = 32 * MIB;
        CompletableFuture<String> got = new CompletableFuture<>();
        try (TestBackend backend = exchanging(size, got); TestProxy proxy = new TestProxy(splicing(), backend.port())) {
            bothWaysIntact(proxy, got, size);
            ForwardStats st = proxy.stats(0);
            // A direction copies until a recv fills its buffer, and copies again after a short splice: of a
            // bulk stream, most bytes cross the pipe.
            assertTrue(st.bytesSplicedUp > size / 2, "client -> backend through the pipe: " + st.bytesSplicedUp);
            assertTrue(st.bytesSplicedDown > size / 2, "backend -> client through the pipe: " + st.bytesSplicedDown);
            assertEquals(0, st.spliceFallbacks);
        }
    }

    /** A pipe smaller than a quarter of the buffer still carries a bulk stream: each splice is a full pipe, not "small". */
    @Test
    void aPipeMuchSmallerThanTheBufferStillSplicesBulk() throws Exception {
        int size = 8 * MIB;
        CompletableFuture<String> got = new CompletableFuture<>();
        Settings st = Settings.builder().splice(true).pipeSize(16 * 1024).bufferSize(256 * 1024).build();
        try (TestBackend backend = exchanging(size, got); TestProxy proxy = new TestProxy(st, backend.port())) {
            bothWaysIntact(proxy, got, size);
            ForwardStats fs = proxy.stats(0);
            assertTrue(fs.bytesSplicedUp > size / 2, "client -> backend through the pipe: " + fs.bytesSplicedUp);
            assertTrue(fs.bytesSplicedDown > size / 2, "backend -> client through the pipe: " + fs.bytesSplicedDown);
        }
    }

    @Test
    void withoutSpliceNothingIsCountedAsSpliced() throws Exception {
        int size = 2 * MIB;
        CompletableFuture<String> got = new CompletableFuture<>();
        try (TestBackend backend = exchanging(size, got); TestProxy proxy = new TestProxy(Settings.DEFAULTS, backend.port())) {
            bothWaysIntact(proxy, got, size);
            ForwardStats st = proxy.stats(0);
            assertEquals(0, st.bytesSplicedUp + st.bytesSplicedDown);
            assertEquals(size, st.bytesUp);
        }
    }

    @ParameterizedTest
    @EnumSource(SpliceRefusingKernel.Refuse.class)
    void aRefusedSpliceFallsBackToCopyingPerDirectionAndIsCounted(SpliceRefusingKernel.Refuse refuse) throws Exception {
        int size = 4 * MIB;
        CompletableFuture<String> got = new CompletableFuture<>();
        try (TestBackend backend = exchanging(size, got);
                TestProxy proxy = new TestProxy(SpliceRefusingKernel.over(Shim.load(), refuse), splicing(), backend.port())) {
            bothWaysIntact(proxy, got, size);
            ForwardStats st = proxy.stats(0);
            assertEquals(2, st.spliceFallbacks, "one fall back per direction");
            assertEquals(0, st.bytesSplicedUp + st.bytesSplicedDown, "nothing left a pipe through splice");
        }
    }

    /** The pipes' write ends as pipe2 returns them, through the real shim. */
    static Kernel recordingPipes(Kernel real, java.util.List<Integer> writeEnds) {
        return InterposedKernel.over(real, (name, args, call) -> {
            Object r = call.invoke();
            if (name.equals("pipe2") && (Long) r >= 0) writeEnds.add((int) (long) (Long) r);
            return r;
        });
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(ints = {4096, 256 * 1024})
    void eachPipeGetsThePipeSizeAskedFor(int pipeSize) throws Exception {
        Kernel real = Shim.load();
        java.util.List<Integer> pipes = new java.util.concurrent.CopyOnWriteArrayList<>();
        Settings st = Settings.builder().splice(true).pipeSize(pipeSize).build();
        try (TestBackend backend = TestBackend.echo(); TestProxy proxy = new TestProxy(recordingPipes(real, pipes), st, backend.port());
                Socket c = proxy.connect()) {
            echoBulk(c);
            // Both directions carried a bulk stream through a pipe; emptied, it went back to the loop's pool, open.
            assertFalse(pipes.isEmpty(), "no pipe was made");
            for (int fd : pipes) assertEquals(pipeSize, real.pipe_size(fd), "F_GETPIPE_SZ of pipe fd " + fd);
        }
    }

    @Test
    void withoutPipeSizeThePipesKeepTheKernelsDefault() throws Exception {
        Kernel real = Shim.load();
        java.util.List<Integer> pipes = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (TestBackend backend = TestBackend.echo(); TestProxy proxy = new TestProxy(recordingPipes(real, pipes), splicing(), backend.port());
                Socket c = proxy.connect()) {
            echoBulk(c);
            assertFalse(pipes.isEmpty(), "no pipe was made");
            for (int fd : pipes) assertEquals(65536, real.pipe_size(fd), "F_GETPIPE_SZ of pipe fd " + fd);
        }
    }

    /** Sends 256 KiB through {@code c} to an echo backend and reads them back: a bulk stream each way. */
    static void echoBulk(Socket c) throws Exception {
        byte[] bulk = HalfCloseTest.random(256 * 1024, 7);
        CompletableFuture<byte[]> back = CompletableFuture.supplyAsync(() -> {
            try {
                return c.getInputStream().readNBytes(bulk.length);
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        c.getOutputStream().write(bulk);
        assertArrayEquals(bulk, back.get(30, TimeUnit.SECONDS));
    }

    /**
     * A pipe is held only while bytes wait in it: exchange after exchange, on one connection and on
     * connection after connection, the pipes the first exchange made are reused (each connection used to
     * make two and close them at its end), and an idle connection holds none.
     */
    @Test
    void pipesGoBackToTheLoopOnceEmptyAndAreReused() throws Exception {
        java.util.List<Integer> pipes = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (TestBackend backend = TestBackend.echo();
                TestProxy proxy = new TestProxy(recordingPipes(Shim.load(), pipes), splicing(), backend.port())) {
            for (int i = 0; i < 20; i++) {
                try (Socket c = proxy.connect()) {
                    for (int j = 0; j < 2; j++) echoBulk(c);
                    // Idle now: both directions drained their pipe and gave it back.
                    assertEquals(0, (int) proxy.onLoop(0, fw -> fw.pipes().inUse()), "pipes held by an idle connection");
                }
            }
            TestProxy.await(() -> proxy.proxy.openConnections() == 0, "every pair closed");
            // One per direction at most, both splicing at once: made by the first exchange, reused by the other 39.
            assertTrue(pipes.size() <= 2, "pipes made for 20 connections of 2 bulk exchanges each: " + pipes);
            int idle = proxy.onLoop(0, fw -> fw.pipes().idle());
            assertEquals(pipes.size(), idle, "every pipe made is kept for the next");
            try (org.epollproxy.stats.StatsServer stats = StatsEndpointTest.statsOn(proxy)) {
                PrometheusParser.Family gauge = StatsEndpointTest.metrics(stats).get("epollproxy_loop_splice_pipes");
                assertEquals(0, gauge.value("loop", "0", "state", "in_use"));
                assertEquals(idle, gauge.value("loop", "0", "state", "idle"));
            }
            assertTrue(proxy.stats(0).bytesSplicedUp > 0 && proxy.stats(0).bytesSplicedDown > 0, "bytes crossed the pipes both ways");
        }
    }

    /** Small messages take the copy path even with --splice: a splice of 64 bytes costs more than a recv and a send. */
    @Test
    void smallMessagesAreCopiedAndNoPipeIsMade() throws Exception {
        java.util.List<Integer> pipes = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (TestBackend backend = TestBackend.echo();
                TestProxy proxy = new TestProxy(recordingPipes(Shim.load(), pipes), splicing(), backend.port());
                Socket c = proxy.connect()) {
            for (int i = 0; i < 100; i++) {
                c.getOutputStream().write(new byte[64]);
                assertEquals(64, c.getInputStream().readNBytes(64).length);
            }
            assertEquals(List.of(), pipes, "pipes made for 64-byte round trips");
            assertEquals(0, proxy.stats(0).bytesSplicedUp + proxy.stats(0).bytesSplicedDown);
            assertEquals("copy", proxy.onLoop(0, fw -> fw.connectionAt(0).info(fw.loop()).path()), "/connections' path");
        }
    }

    @Test
    void aHalfCloseIsPassedOnAndTheResponseStillFlows() throws Exception {
        byte[] response = HalfCloseTest.random(MIB, 21);
        try (TestBackend backend = TestBackend.start(s -> {
                    byte[] request = s.getInputStream().readAllBytes(); // until the client's FIN
                    if (!new String(request).equals("GET / HTTP/1.0\r\n\r\n")) throw new AssertionError(new String(request));
                    s.getOutputStream().write(response);
                    s.close();
                });
                TestProxy proxy = new TestProxy(splicing(), backend.port());
                Socket c = proxy.connect()) {
            c.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes());
            c.shutdownOutput();
            assertArrayEquals(response, c.getInputStream().readAllBytes());
            proxy.awaitLog("up=18 down=" + response.length);
            proxy.awaitLog("end=client-closed");
            assertTrue(proxy.stats(0).bytesSplicedDown > response.length / 2, "spliced: " + proxy.stats(0).bytesSplicedDown);
            assertTrue(backend.failures.isEmpty(), backend.failures.toString());
        }
    }

    @Test
    void aBackendResetReachesTheClientAsAReset() throws Exception {
        try (TestBackend backend = TestBackend.start(s -> {
                    s.getOutputStream().write(new byte[100_000]);
                    s.getInputStream().read(new byte[1]); // the client's byte: now reset
                    s.setSoLinger(true, 0);
                    s.close();
                });
                TestProxy proxy = new TestProxy(splicing(), backend.port());
                Socket c = proxy.connect()) {
            assertEquals(100_000, c.getInputStream().readNBytes(100_000).length);
            c.getOutputStream().write(1);
            assertThrows(IOException.class, () -> {
                // the RST arrives as "Connection reset" on read (or on a later write)
                for (int i = 0; i < 100; i++) {
                    if (c.getInputStream().read() < 0) return; // a FIN would be the wrong answer
                    c.getOutputStream().write(1);
                }
            });
            proxy.awaitLog("end=backend-reset");
        }
    }

    @Test
    void aBackendThatNeverReadsStopsTheProxyReadingWithOneBufferOrOnePipeHeld() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (TestBackend backend = TestBackend.start(s -> release.await(30, TimeUnit.SECONDS));
                TestProxy proxy = new TestProxy(splicing(), backend.port());
                Socket c = proxy.connect()) {
            long last = BackpressureTest.writeUntilStalled(c);
            assertTrue(last < 64L << 20, "the client could write " + last + " bytes");
            // The stalled direction holds what the backend did not take in a pipe (it was splicing) or in one
            // buffer (a short splice had sent it back to copying): one or the other, never more.
            long held = BackpressureTest.awaitOneHeld(() -> proxy.onLoop(0, fw -> (long) fw.pool().inUse() + fw.pipes().inUse()));
            long buffers = proxy.onLoop(0, fw -> fw.pool().inUse());
            int pipes = proxy.onLoop(0, fw -> fw.pipes().inUse());
            assertEquals(1, held, buffers + " buffers and " + pipes + " pipes held");
            release.countDown();
        }
    }
}
