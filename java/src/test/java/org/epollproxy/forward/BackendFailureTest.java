package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;
import org.epollproxy.Ports;
import org.junit.jupiter.api.Test;

/** Dead, refusing, silent and resetting backends: the client learns at once, and the proxy serves on. */
class BackendFailureTest {

    @Test
    void aRefusedBackendClosesTheClientWithinASecondAndTheProxyServesOn() throws Exception {
        int dead = Ports.free();
        try (TestBackend good = TestBackend.echo();
                TestProxy proxy = new TestProxy(Settings.DEFAULTS, dead, good.port())) {
            long t0 = System.nanoTime();
            try (Socket c = proxy.connect()) {
                assertEquals(-1, c.getInputStream().read(), "closed without data");
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms < 1000, "client closed after " + ms + " ms");
            proxy.awaitLog("end=backend-refused errno=ECONNREFUSED");

            try (Socket c = new Socket("127.0.0.1", proxy.port(1))) {
                c.getOutputStream().write("still here".getBytes());
                c.shutdownOutput();
                assertArrayEquals("still here".getBytes(), c.getInputStream().readAllBytes());
            }
        }
    }

    @Test
    void aBackendThatNeverAcceptsHitsTheConnectTimeout() throws Exception {
        // A listener that never accepts: once its backlog is full, the kernel drops further SYNs,
        // so a connect neither succeeds nor fails: only our timer ends it.
        try (ServerSocket silent = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            List<Socket> fillers = new ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    Socket f = new Socket();
                    try {
                        f.connect(new InetSocketAddress("127.0.0.1", silent.getLocalPort()), 200);
                    } catch (IOException timedOut) {
                        // the backlog is full now
                    }
                    fillers.add(f);
                }
                Settings st = Settings.builder().connectTimeoutMs(300).build();
                try (TestProxy proxy = new TestProxy(st, silent.getLocalPort()); Socket c = proxy.connect()) {
                    long t0 = System.nanoTime();
                    assertEquals(-1, c.getInputStream().read());
                    long ms = (System.nanoTime() - t0) / 1_000_000;
                    assertTrue(ms >= 250 && ms < 5000, "closed after " + ms + " ms");
                    proxy.awaitLog("end=connect-timeout");
                }
            } finally {
                for (Socket f : fillers) f.close();
            }
        }
    }

    @Test
    void aBackendResetMidStreamResetsTheClient() throws Exception {
        try (TestBackend backend = TestBackend.start(s -> {
                    s.getOutputStream().write(new byte[100_000]);
                    s.getOutputStream().flush();
                    Thread.sleep(200);
                    s.setSoLinger(true, 0);
                    s.close(); // RST
                });
                TestProxy proxy = new TestProxy(backend.port());
                Socket c = proxy.connect()) {
            InputStream in = c.getInputStream();
            byte[] b = new byte[65536];
            IOException e = assertThrows(IOException.class, () -> {
                long total = 0;
                int n;
                while ((n = in.read(b)) >= 0) total += n;
                throw new AssertionError("clean EOF after " + total + " bytes: the reset was hidden");
            });
            assertTrue(e instanceof SocketException && e.getMessage().contains("reset"), e.toString());
            proxy.awaitLog("end=backend-reset errno=ECONNRESET");
        }
    }

    @Test
    void aClientResetAbortsTheBackend() throws Exception {
        java.util.concurrent.CompletableFuture<Throwable> backendSaw = new java.util.concurrent.CompletableFuture<>();
        try (TestBackend backend = TestBackend.start(s -> {
                    try {
                        byte[] b = new byte[1024];
                        while (s.getInputStream().read(b) >= 0) { /* until reset */ }
                        backendSaw.complete(null);
                    } catch (IOException e) {
                        backendSaw.complete(e);
                    }
                });
                TestProxy proxy = new TestProxy(backend.port())) {
            Socket c = proxy.connect();
            c.getOutputStream().write(new byte[10]);
            TestProxy.await(() -> backend.accepted.get() == 1, "backend connection");
            c.setSoLinger(true, 0);
            c.close();
            Throwable t = backendSaw.get(10, java.util.concurrent.TimeUnit.SECONDS);
            assertTrue(t instanceof SocketException, "backend should see a reset, saw " + t);
            proxy.awaitLog("end=client-reset");
        }
    }
}
