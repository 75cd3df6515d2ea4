package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.NativeMemory;
import org.epollproxy.shim.Shim;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * --splice under client resets: every pipe is closed with its pair. A class of its own because it counts
 * the JVM's fds and so runs alone; the rest of {@link SpliceTest} runs beside other classes.
 */
@Isolated("counts the JVM's open fds (sockets and pipes)")
class SplicePipeLeakTest {

    /**
     * Each client announces its number (1..50) and its backend streams that number back, so a byte of one
     * connection reaching another is seen; each then resets with bytes in flight, in the pipes too. After
     * that no fd is left beyond the idle pipes, and every idle pipe is empty: a pipe given back to the pool
     * with bytes in it (instead of closed) would pass the fd count but fail here, or hand its bytes to the
     * next client.
     */
    @Test
    void aClientResetIsPassedToTheBackendAndEveryPipeIsClosed() throws Exception {
        CompletableFuture<Throwable> backendSaw = new CompletableFuture<>();
        try (TestBackend backend = TestBackend.start(s -> {
                    int id = s.getInputStream().read(); // the client's number: every byte sent back is it
                    byte[] chunk = new byte[32 * 1024];
                    Arrays.fill(chunk, (byte) id);
                    try {
                        for (int i = 0; i < 100_000; i++) s.getOutputStream().write(chunk); // until reset
                        if (id == 0) backendSaw.complete(null);
                    } catch (IOException e) {
                        if (id == 0) backendSaw.complete(e);
                    }
                });
                TestProxy proxy = new TestProxy(SpliceTest.splicing(), backend.port())) {
            try (Socket warm = proxy.connect()) {
                warm.getOutputStream().write(0);
                warm.getInputStream().read(new byte[10]);
                warm.setSoLinger(true, 0);
            }
            TestProxy.await(() -> proxy.proxy.openConnections() == 0, "warm-up pair closed");
            assertTrue(backendSaw.get(30, TimeUnit.SECONDS) instanceof IOException, "the backend saw the reset");
            int baseline = openFdsBesideIdlePipes(proxy);
            byte[] got = new byte[8192];
            for (int id = 1; id <= 50; id++) {
                try (Socket c = proxy.connect()) {
                    c.getOutputStream().write(id);
                    InputStream in = c.getInputStream();
                    int read = 0;
                    while (read < 100_000) {
                        int n = in.read(got);
                        assertTrue(n > 0, "client " + id + ": closed after " + read + " bytes");
                        for (int j = 0; j < n; j++) {
                            if (got[j] != id) fail("client " + id + " got byte " + got[j] + " at " + (read + j) + ": another connection's");
                        }
                        read += n;
                    }
                    c.setSoLinger(true, 0); // RST with bytes in flight (and in the pipes)
                }
            }
            TestProxy.await(() -> proxy.proxy.openConnections() == 0, "every pair closed");
            // No more than before, beside the empty pipes the loop keeps for reuse (up to PipePool.MAX_IDLE):
            // nothing leaked, and a pipe reset with bytes in it was closed, not kept.
            TestProxy.await(() -> openFdsBesideIdlePipes(proxy) <= baseline,
                    "fd count back to " + baseline + " (sockets and pipes), now " + openFdsBesideIdlePipes(proxy));
            assertEquals(0, (int) proxy.onLoop(0, fw -> fw.pipes().inUse()), "pipes still held");
            assertEquals(List.of(), proxy.onLoop(0, SplicePipeLeakTest::idlePipesHoldingBytes), "idle pipes that hold bytes");
            assertEquals(51, proxy.log().split("end=client-reset", -1).length - 1, proxy.log());
            assertTrue(proxy.stats(0).bytesSplicedDown > 0);
        }
    }

    /** On the loop: the idle pipes a one-byte read finds bytes in (they are non-blocking: empty is -EAGAIN). */
    private static List<String> idlePipesHoldingBytes(ForwardingLoop fw) {
        Kernel k = Shim.load();
        List<String> full = new ArrayList<>();
        long buf = NativeMemory.allocate(1);
        try {
            for (int i = 0; i < fw.pipes().idle(); i++) {
                int rc = k.read(fw.pipes().idleReadEnd(i), buf, 1);
                if (rc != -Errno.EAGAIN) full.add("idle pipe " + i + ": read " + rc);
            }
        } finally {
            NativeMemory.free(buf);
        }
        return full;
    }

    /** The JVM's open fds, less the two of each empty pipe the proxy's loop keeps for reuse. */
    private static int openFdsBesideIdlePipes(TestProxy proxy) {
        try {
            int idle = proxy.onLoop(0, fw -> fw.pipes().idle()); // first: a pipe given back after the count is not missed
            return ResetStormTest.openFds() - 2 * idle;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

}
