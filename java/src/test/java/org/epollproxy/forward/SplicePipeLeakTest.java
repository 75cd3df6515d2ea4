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
            int baseline = ResetStormTest.openFds();
            for (int i = 0; i < 50; i++) {
                try (Socket c = proxy.connect()) {
                    InputStream in = c.getInputStream();
                    int read = 0;
                    while (read < 100_000) read += in.read(new byte[8192]);
                    c.setSoLinger(true, 0); // RST with bytes in flight (and in the pipes)
                }
            }
            TestProxy.await(() -> proxy.proxy.openConnections() == 0, "every pair closed");
            TestProxy.await(() -> ResetStormTest.openFds() <= baseline, // no more than before: nothing leaked
                    "fd count back to " + baseline + " (sockets and pipes), now " + ResetStormTest.openFds());
            assertEquals(51, proxy.log().split("end=client-reset", -1).length - 1, proxy.log());
            assertTrue(proxy.stats(0).bytesSplicedDown > 0);
        }
    }

}
