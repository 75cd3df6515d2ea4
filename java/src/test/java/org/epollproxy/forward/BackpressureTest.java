package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.net.Socket;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * A slow side stops the proxy from reading the fast side (no unbounded buffering), and everything
 * still arrives once the slow side catches up.
 */
@Isolated("fills socket buffers and watches the loop hold back reads; another test on the cores makes the timing flaky")
class BackpressureTest {

    /**
     * Writes to {@code c} from a thread until it makes no progress for 500 ms (everything between it
     * and a backend that does not read is full) and returns the bytes written; asserts that it stalled.
     */
    static long writeUntilStalled(Socket c) throws InterruptedException {
        AtomicLong written = new AtomicLong();
        Thread writer = new Thread(() -> {
            byte[] chunk = new byte[64 * 1024];
            try {
                OutputStream out = c.getOutputStream();
                for (int i = 0; i < 4096; i++) { // at most 256 MiB, far more than kernel buffers hold
                    out.write(chunk);
                    written.addAndGet(chunk.length);
                }
            } catch (Exception e) {
                // the socket is closed at the end of the test
            }
        });
        writer.setDaemon(true);
        writer.start();
        long last = -1;
        for (int i = 0; i < 100 && written.get() != last; i++) {
            last = written.get();
            Thread.sleep(500);
        }
        assertEquals(last, written.get(), "the writer never stalled: the proxy kept reading");
        assertTrue(writer.isAlive(), "the writer should be blocked, not finished");
        return last;
    }

    /**
     * Waits (30 s at most) until {@code held} reads 1, and returns what it read last. Half a second
     * without progress of the writer is only a stall on a machine that runs the proxy's loop in time;
     * on a busy one the loop may not have run for that long, with everything it read already sent on, so
     * what it holds is read again until the real stall shows.
     */
    static long awaitOneHeld(Held held) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        long now = held.get();
        while (now != 1 && System.nanoTime() < deadline) {
            Thread.sleep(20);
            now = held.get();
        }
        return now;
    }

    /** What the proxy holds now (buffers, pipes), read on its loop. */
    interface Held {
        long get() throws Exception;
    }

    @Test
    void aBackendThatNeverReadsKeepsTheProxysMemoryBounded() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (TestBackend backend = TestBackend.start(s -> release.await(30, TimeUnit.SECONDS));
                TestProxy proxy = new TestProxy(backend.port());
                Socket c = proxy.connect()) {
            long last = writeUntilStalled(c);
            BufferPool pool = proxy.proxy.forwardingLoops().get(0).pool();
            assertEquals(1, awaitOneHeld(() -> proxy.onLoop(0, fw -> (long) fw.pool().inUse())), "one buffer holds the bytes the backend did not take");
            assertTrue(pool.peakInUse() <= 2, "peak buffers in use: " + pool.peakInUse());
            // kernel socket buffers (client send, proxy receive/send, backend receive) hold the rest
            assertTrue(last < 64L << 20, "the client could write " + last + " bytes");
            release.countDown();
        }
    }

    @Test
    void aSlowReaderWithAFastBackendGetsEverythingIntact() throws Exception {
        // More than loopback's socket buffers can hold between them (they grow to several MiB each), so the
        // proxy's sends must fall short while the client does not read. The client starts reading only once
        // the proxy has seen a short send: waiting for the condition, not for a time a busy machine can miss.
        int size = 32 << 20;
        try (TestBackend backend = TestBackend.start(s -> {
                    SeededStream.write(s.getOutputStream(), 3, size);
                    s.close();
                });
                TestProxy proxy = new TestProxy(backend.port());
                Socket c = proxy.connect()) {
            TestProxy.await(() -> shortSends(proxy) > 0, "a send to the client that does not read to fall short");
            SeededStream.Check check = new SeededStream.Check(3);
            java.io.InputStream in = c.getInputStream();
            byte[] b = new byte[65536];
            int n;
            for (int i = 0; i < 20; i++) { // then a slow start: small reads
                n = in.read(b, 0, 1000);
                if (n > 0) check.update(b, 0, n);
            }
            while ((n = in.read(b)) > 0) check.update(b, 0, n);
            assertEquals(SeededStream.intact(size), check.verdict(), "backend -> client");
        }
    }

    /** Sends to a client that fell short or met EAGAIN. Read on the loop's own thread: plain fields, written there only. */
    private static long shortSends(TestProxy proxy) {
        try {
            return proxy.onLoop(0, fl -> fl.counters().partialSends + fl.counters().eagainSend);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void traceShowsOutBeingAddedWhileTheReaderIsSlowAndDroppedAfter() throws Exception {
        Settings st = Settings.builder().trace(true).bufferSize(16 * 1024).build();
        try (TestBackend backend = TestBackend.start(s -> {
                    s.getOutputStream().write(new byte[8 << 20]);
                    s.close();
                });
                TestProxy proxy = new TestProxy(st, backend.port());
                Socket c = proxy.connect()) {
            Thread.sleep(300); // let the client's socket buffer fill
            assertEquals(8 << 20, c.getInputStream().readAllBytes().length);
            c.close();
            proxy.awaitLog("end=backend-closed");
            String log = proxy.log();
            Matcher on = Pattern.compile("MOD fd (\\d+) IN -> IN\\|OUT").matcher(log);
            assertTrue(on.find(), "OUT added on the client fd when a send fell short:\n" + tail(log));
            String fd = on.group(1);
            assertTrue(log.contains("MOD fd " + fd + " IN|OUT -> IN"), "OUT dropped once drained");
            assertTrue(Pattern.compile("send fd " + fd + " \\d+ -> EAGAIN").matcher(log).find()
                    || Pattern.compile("fd " + fd + " .*OUT").matcher(log).find(), "the trace shows the wait for OUT");
        }
    }

    private static String tail(String s) {
        return s.length() < 4000 ? s : s.substring(s.length() - 4000);
    }
}
