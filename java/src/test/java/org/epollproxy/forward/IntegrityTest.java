package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** No byte lost, duplicated or reordered: both directions at once, and many connections at once. */
class IntegrityTest {
    static final int MIB = 1 << 20;

    @Test
    void thirtyTwoMebibytesEachWayAtOnceArriveIntact() throws Exception {
        int size = 32 * MIB;
        CompletableFuture<String> backendGot = new CompletableFuture<>();
        try (TestBackend backend = TestBackend.start(s -> {
                    CompletableFuture<String> reader = CompletableFuture.supplyAsync(() -> {
                        try {
                            return SeededStream.read(s.getInputStream(), 1);
                        } catch (Exception e) {
                            throw new RuntimeException(e);
                        }
                    });
                    SeededStream.write(s.getOutputStream(), 2, size);
                    s.shutdownOutput();
                    backendGot.complete(reader.get());
                });
                TestProxy proxy = new TestProxy(backend.port());
                Socket c = proxy.connect()) {
            CompletableFuture<String> clientGot = CompletableFuture.supplyAsync(() -> {
                try {
                    return SeededStream.read(c.getInputStream(), 2);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            SeededStream.write(c.getOutputStream(), 1, size);
            c.shutdownOutput();
            assertEquals(SeededStream.intact(size), backendGot.get(), "client -> backend");
            assertEquals(SeededStream.intact(size), clientGot.get(), "backend -> client");
            proxy.awaitLog("up=" + size + " down=" + size);
        }
    }

    @Test
    void fiveHundredConcurrentConnectionsEachGetTheirOwnBytesBack() throws Exception {
        int n = 500;
        try (TestBackend backend = TestBackend.echo(); TestProxy proxy = new TestProxy(backend.port())) {
            List<Socket> sockets = new ArrayList<>();
            List<byte[]> payloads = new ArrayList<>();
            try {
                for (int i = 0; i < n; i++) sockets.add(proxy.connect());
                TestProxy.await(() -> proxy.proxy.openConnections() == n, "500 open pairs");
                for (int i = 0; i < n; i++) {
                    byte[] p = ("connection " + i + " ").repeat(1 + i % 50).getBytes();
                    payloads.add(p);
                    sockets.get(i).getOutputStream().write(p);
                    sockets.get(i).shutdownOutput();
                }
                for (int i = 0; i < n; i++) {
                    byte[] got = sockets.get(i).getInputStream().readAllBytes();
                    assertArrayEquals(payloads.get(i), got, "connection " + i);
                }
            } finally {
                for (Socket s : sockets) s.close();
            }
            TestProxy.await(() -> proxy.proxy.openConnections() == 0, "all pairs closed");
            assertTrue(backend.failures.isEmpty(), backend.failures.toString());
        }
    }
}
