package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * --splice under client resets: every pipe is closed with its pair. A class of its own because it counts
 * the JVM's fds and so runs alone; the rest of {@link SpliceTest} runs beside other classes.
 */
@Isolated("counts the JVM's open fds (sockets and pipes)")
class SplicePipeLeakTest {

    @Test
    void aClientResetIsPassedToTheBackendAndEveryPipeIsClosed() throws Exception {
        CompletableFuture<Throwable> backendSaw = new CompletableFuture<>();
        try (TestBackend backend = TestBackend.start(s -> {
                    byte[] chunk = new byte[32 * 1024];
                    try {
                        for (int i = 0; i < 100_000; i++) s.getOutputStream().write(chunk); // until reset
                        backendSaw.complete(null);
                    } catch (IOException e) {
                        backendSaw.complete(e);
                    }
                });
                TestProxy proxy = new TestProxy(SpliceTest.splicing(), backend.port())) {
            try (Socket warm = proxy.connect()) {
                warm.getInputStream().read(new byte[10]);
                warm.setSoLinger(true, 0);
            }
            TestProxy.await(() -> proxy.proxy.openConnections() == 0, "warm-up pair closed");
            assertTrue(backendSaw.get(20, TimeUnit.SECONDS) instanceof IOException, "the backend saw the reset");
            int baseline = openFdsBesideIdlePipes(proxy);
            for (int i = 0; i < 50; i++) {
                try (Socket c = proxy.connect()) {
                    InputStream in = c.getInputStream();
                    int read = 0;
                    while (read < 100_000) read += in.read(new byte[8192]);
                    c.setSoLinger(true, 0); // RST with bytes in flight (and in the pipes)
                }
            }
            TestProxy.await(() -> proxy.proxy.openConnections() == 0, "every pair closed");
            // No more than before, beside the empty pipes the loop keeps for reuse (up to PipePool.MAX_IDLE):
            // nothing leaked, and a pipe reset with bytes in it was closed, not kept.
            TestProxy.await(() -> openFdsBesideIdlePipes(proxy) <= baseline,
                    "fd count back to " + baseline + " (sockets and pipes), now " + openFdsBesideIdlePipes(proxy));
            assertEquals(0, (int) proxy.onLoop(0, fw -> fw.pipes().inUse()), "pipes still held");
            assertEquals(51, proxy.log().split("end=client-reset", -1).length - 1, proxy.log());
            assertTrue(proxy.stats(0).bytesSplicedDown > 0);
        }
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
