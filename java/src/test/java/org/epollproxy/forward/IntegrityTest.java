package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** No byte lost, duplicated or reordered: both directions at once, and many connections at once. */
class IntegrityTest {
    static final int MIB = 1 << 20;

    /** Writes {@code total} pseudo-random bytes from {@code seed}; returns their SHA-256. */
    static byte[] writeRandom(OutputStream out, long seed, int total) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        Random r = new Random(seed);
        byte[] chunk = new byte[64 * 1024];
        int sent = 0;
        while (sent < total) {
            int n = Math.min(chunk.length, total - sent);
            // vary chunk sizes so sends do not line up with the proxy's buffer
            n = Math.max(1, Math.min(n, 1 + r.nextInt(chunk.length)));
            r.nextBytes(chunk);
            out.write(chunk, 0, n);
            sha.update(chunk, 0, n);
            sent += n;
        }
        out.flush();
        return sha.digest();
    }

    /** Reads to EOF; returns {SHA-256} and checks the count. */
    static byte[] readAll(InputStream in, long expected) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        byte[] b = new byte[128 * 1024];
        long total = 0;
        int n;
        while ((n = in.read(b)) > 0) {
            sha.update(b, 0, n);
            total += n;
        }
        assertEquals(expected, total, "byte count");
        return sha.digest();
    }

    @Test
    void thirtyTwoMebibytesEachWayAtOnceArriveIntact() throws Exception {
        int size = 32 * MIB;
        CompletableFuture<byte[]> backendGot = new CompletableFuture<>();
        CompletableFuture<byte[]> backendSent = new CompletableFuture<>();
        try (TestBackend backend = TestBackend.start(s -> {
                    CompletableFuture<byte[]> reader = CompletableFuture.supplyAsync(() -> {
                        try {
                            return readAll(s.getInputStream(), size);
                        } catch (Exception e) {
                            throw new RuntimeException(e);
                        }
                    });
                    backendSent.complete(writeRandom(s.getOutputStream(), 2, size));
                    s.shutdownOutput();
                    backendGot.complete(reader.get());
                });
                TestProxy proxy = new TestProxy(backend.port());
                Socket c = proxy.connect()) {
            CompletableFuture<byte[]> clientGot = CompletableFuture.supplyAsync(() -> {
                try {
                    return readAll(c.getInputStream(), size);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            byte[] clientSent = writeRandom(c.getOutputStream(), 1, size);
            c.shutdownOutput();
            assertArrayEquals(clientSent, backendGot.get(), "client -> backend");
            assertArrayEquals(backendSent.get(), clientGot.get(), "backend -> client");
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
