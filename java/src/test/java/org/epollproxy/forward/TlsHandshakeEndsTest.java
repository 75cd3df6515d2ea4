package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import org.epollproxy.forward.tls.TlsChannel;
import org.epollproxy.forward.tls.TlsMetrics;
import org.epollproxy.forward.tls.TlsServer;
import org.epollproxy.forward.tls.TlsTasks;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.NativeMemory;
import org.epollproxy.shim.SockAddr;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How a terminating listener's handshake ends, said right. A client that sends its ClientHello and leaves
 * (RST) while its handshake task waits for a thread of the pool ({@link TlsTasks}): the proxy notices at once,
 * logs and counts it, and the task is dropped instead of making a key exchange and a signature for nobody.
 * The pool's threads are held busy by handshakes of the test's own, whose key manager waits, so the client's
 * task surely waits in the queue when it leaves. And a first record the channel cannot hold is told as what
 * it is (a protocol failure), not as a failed socket.
 */
class TlsHandshakeEndsTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void certificate() throws Exception {
        Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "t.key", "-out", "t.crt", "-days", "2", "-subj", "/CN=t.example")
                .directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "openssl req");
        assertEquals(0, p.exitValue(), out);
    }

    /** A JDK client's first flight: its ClientHello record. */
    static byte[] clientHello() throws Exception {
        SSLEngine c = SSLContext.getDefault().createSSLEngine("t.example", 443);
        c.setUseClientMode(true);
        ByteBuffer out = ByteBuffer.allocate(1 << 15);
        c.wrap(ByteBuffer.allocate(0), out);
        out.flip();
        byte[] b = new byte[out.remaining()];
        out.get(b);
        return b;
    }

    /** A kernel whose one socket gives {@code bytes} to the first recv, then nothing; sends go nowhere. */
    static Kernel feeding(byte[] bytes) {
        AtomicBoolean given = new AtomicBoolean();
        return (Kernel) java.lang.reflect.Proxy.newProxyInstance(Kernel.class.getClassLoader(), new Class<?>[] {Kernel.class}, (p, m, a) -> {
            switch (m.getName()) {
                case "recv":
                    if (given.getAndSet(true)) return -Errno.EAGAIN;
                    NativeMemory.put((Long) a[1], bytes, 0, bytes.length);
                    return bytes.length;
                case "send":
                    return a[2];
                case "shutdown":
                    return 0;
                default:
                    throw new UnsupportedOperationException(m.getName());
            }
        });
    }

    /** A key manager whose certificate choice (inside the server's first task) waits for {@code go}. */
    static X509ExtendedKeyManager holding(CountDownLatch entered, CountDownLatch go) {
        return new X509ExtendedKeyManager() {
            @Override
            public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
                entered.countDown();
                try {
                    go.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return null; // no certificate: this handshake only held a thread
            }

            @Override
            public String[] getClientAliases(String keyType, Principal[] issuers) {
                return null;
            }

            @Override
            public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
                return null;
            }

            @Override
            public String[] getServerAliases(String keyType, Principal[] issuers) {
                return null;
            }

            @Override
            public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
                return null;
            }

            @Override
            public X509Certificate[] getCertificateChain(String alias) {
                return null;
            }

            @Override
            public PrivateKey getPrivateKey(String alias) {
                return null;
            }
        };
    }

    @Test
    void aFirstRecordLargerThanTheBufferIsAProtocolFailureNotASocketOne() throws Exception {
        TlsServer tls = new TlsServer("test", List.of(new TlsServer.CertFiles(dir.resolve("t.crt"), dir.resolve("t.key"))), List.of(), null,
                TlsServer.ClientAuth.NONE, 60_000);
        try (TestBackend backend = TestBackend.echo();
                TestProxy proxy = new TestProxy(Settings.DEFAULTS, List.of(new Forward(SockAddr.parse("127.0.0.1", 0),
                        List.of(TestProxy.backend(backend.port()))).withTls(tls)))) {
            // A handshake record of 32767 bytes: the JDK takes records up to 33093 bytes (its "large fragments"),
            // the default buffer holds 32768: the channel refuses it once the buffer is full.
            byte[] record = new byte[5 + 32767];
            record[0] = 22;
            record[1] = 3;
            record[2] = 1;
            record[3] = 0x7f;
            record[4] = (byte) 0xff;
            try (Socket c = proxy.connect()) {
                try {
                    c.getOutputStream().write(record);
                    c.getInputStream().read();
                } catch (java.io.IOException e) {
                    // reset: the proxy closed first
                }
            }
            proxy.awaitLog("end=tls-handshake");
            String line = proxy.log().lines().filter(l -> l.contains("end=tls-handshake")).findFirst().orElseThrow();
            assertTrue(line.contains("why=\"a TLS record larger than the buffer\""), line);
            assertEquals(1, tls.metrics().failed.get(TlsMetrics.PROTOCOL).sum());
        }
    }

    static Object field(String name) throws Exception {
        Field f = TlsTasks.class.getDeclaredField(name);
        f.setAccessible(true);
        return f.get(null);
    }

    @Test
    void aClientThatLeavesWhileItsTaskWaitsIsEndedAtOnce() throws Exception {
        TlsServer tls = new TlsServer("test", List.of(new TlsServer.CertFiles(dir.resolve("t.crt"), dir.resolve("t.key"))), List.of(), null,
                TlsServer.ClientAuth.NONE, 60_000);
        int threads = (Integer) field("THREADS");
        ThreadPoolExecutor pool = (ThreadPoolExecutor) field("POOL");
        CountDownLatch entered = new CountDownLatch(threads);
        CountDownLatch go = new CountDownLatch(1);
        List<TlsChannel> holders = new ArrayList<>();
        try (TestBackend backend = TestBackend.echo(); BufferPool buffers = new BufferPool(32 * 1024, 16);
                TestProxy proxy = new TestProxy(Settings.DEFAULTS, List.of(new Forward(SockAddr.parse("127.0.0.1", 0),
                        List.of(TestProxy.backend(backend.port()))).withTls(tls)))) {
            try {
                SSLContext ctx = SSLContext.getInstance("TLS");
                ctx.init(new javax.net.ssl.KeyManager[] {holding(entered, go)}, null, null);
                for (int i = 0; i < threads; i++) {
                    SSLEngine e = ctx.createSSLEngine();
                    e.setUseClientMode(false);
                    TlsChannel holder = new TlsChannel(e, feeding(clientHello()), buffers, 1, new TlsMetrics());
                    holders.add(holder);
                    assertEquals(TlsChannel.WANT_TASK, holder.handshake());
                    TlsTasks.run(holder, proxy.proxy.loops().get(0), () -> {});
                }
                assertTrue(entered.await(30, TimeUnit.SECONDS), "every thread of the pool held");
                int queuedBefore = pool.getQueue().size();
                try (Socket c = proxy.connect()) {
                    c.getOutputStream().write(clientHello());
                    TestProxy.await(() -> pool.getQueue().size() > queuedBefore, "the client's task queued");
                    c.setSoLinger(true, 0); // RST
                }
                proxy.awaitLog("end=tls-handshake why=\"the client closed during the handshake\"");
                assertEquals(0, backend.accepted.get());
            } finally {
                go.countDown(); // the holders' tasks end (their handshakes fail: no certificate), the pool serves on
                for (TlsChannel h : holders) h.release();
            }
        }
    }
}
