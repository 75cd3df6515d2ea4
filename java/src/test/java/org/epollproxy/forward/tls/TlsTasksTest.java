package org.epollproxy.forward.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Socket;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.X509ExtendedKeyManager;
import org.epollproxy.forward.BufferPool;
import org.epollproxy.loop.EventLoop;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.Shim;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The handshake tasks off the loop ({@link TlsTasks}) and a connection that ends while its task waits or runs.
 * A server's first task (reading the ClientHello: the certificate choice, the key exchange, the signature) is
 * the costly one; the key manager here counts the certificate choices and can hold a task inside one, so the
 * test sees whether a task ran and what the loop may do meanwhile. Client and server talk over the in-memory
 * wire of {@link TlsWire}; the loop is a real one, as the task's answer goes back through it.
 */
class TlsTasksTest {
    @TempDir
    static Path dir;
    static KeyStore keys;

    @BeforeAll
    static void files() throws Exception {
        TlsWire.ecCertificate(dir);
        keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("ec", PemFiles.privateKey(dir.resolve("ec.key")), new char[0],
                PemFiles.certificates(dir.resolve("ec.crt")).toArray(new X509Certificate[0]));
    }

    final BufferPool pool = new BufferPool(32 * 1024, 16);
    final List<String> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
    EventLoop loop;
    Thread loopThread;
    /** Certificate choices made by the server's tasks. */
    final AtomicInteger chosen = new AtomicInteger();
    /** A task entered the certificate choice; it goes on once {@code go} is counted down (if {@code hold}). */
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch go = new CountDownLatch(1);
    volatile boolean hold;

    @BeforeEach
    void startLoop() {
        loop = new EventLoop(Shim.load(), 0, errors::add);
        loopThread = new Thread(loop::run, "tls-tasks-test-loop");
        loopThread.start();
    }

    @AfterEach
    void stopLoop() throws Exception {
        go.countDown();
        loop.stop();
        loopThread.join(30_000);
        loop.close();
        pool.close();
        assertEquals(List.of(), errors);
    }

    /** The server's key manager: the keystore's, counting each choice, and holding it while {@link #hold}. */
    X509ExtendedKeyManager counting() throws Exception {
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, new char[0]);
        X509ExtendedKeyManager real = (X509ExtendedKeyManager) kmf.getKeyManagers()[0];
        return new X509ExtendedKeyManager() {
            @Override
            public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
                chosen.incrementAndGet();
                if (hold) {
                    entered.countDown();
                    try {
                        go.await(60, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return real.chooseEngineServerAlias(keyType, issuers, engine);
            }

            @Override
            public String[] getClientAliases(String keyType, Principal[] issuers) {
                return real.getClientAliases(keyType, issuers);
            }

            @Override
            public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
                return null;
            }

            @Override
            public String[] getServerAliases(String keyType, Principal[] issuers) {
                return real.getServerAliases(keyType, issuers);
            }

            @Override
            public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
                return real.chooseServerAlias(keyType, issuers, socket);
            }

            @Override
            public X509Certificate[] getCertificateChain(String alias) {
                return real.getCertificateChain(alias);
            }

            @Override
            public PrivateKey getPrivateKey(String alias) {
                return real.getPrivateKey(alias);
            }
        };
    }

    /** A server channel (fd 1) that has read the client's (fd 2) ClientHello and wants its first task run. */
    TlsChannel[] serverWantingItsTask() throws Exception {
        Kernel k = TlsWire.wire(new TlsWire.Queue(1 << 20), new TlsWire.Queue(1 << 20));
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(new javax.net.ssl.KeyManager[] {counting()}, null, null);
        SSLEngine se = ctx.createSSLEngine();
        se.setUseClientMode(false);
        TlsChannel s = new TlsChannel(se, k, pool, 1, new TlsMetrics());
        TlsClient client = new TlsClient("test", "ec.example", dir.resolve("ec.crt"), null);
        TlsChannel c = new TlsChannel(client.newEngine("ec.example", 443), k, pool, 2, client.metrics());
        assertEquals(TlsChannel.WANT_READ, c.handshake(), "the ClientHello is out");
        assertEquals(TlsChannel.WANT_TASK, s.handshake(), "the server read it and has a task");
        return new TlsChannel[] {s, c};
    }

    /** Runs {@code s}'s tasks through TlsTasks; the future completes when the answer is back on the loop. */
    CompletableFuture<Void> runTasks(TlsChannel s) {
        CompletableFuture<Void> back = new CompletableFuture<>();
        TlsTasks.run(s, loop, () -> back.complete(null));
        return back;
    }

    @Test
    void theTaskOfAConnectionThatEndedBeforeItsTurnIsNotRun() throws Exception {
        TlsChannel[] ends = serverWantingItsTask();
        ends[0].release(); // the client left, or its handshake timed out, while the task waited for a thread
        runTasks(ends[0]).get(30, TimeUnit.SECONDS);
        assertEquals(0, chosen.get(), "no certificate chosen, no key exchange nor signature made, for a client that is gone");
        assertEquals(SSLEngineResult.HandshakeStatus.NEED_TASK, ends[0].engine().getHandshakeStatus());
        ends[1].release();
    }

    @Test
    void aLiveConnectionsTaskRunsAndItsAnswerComesBackOnTheLoop() throws Exception {
        TlsChannel[] ends = serverWantingItsTask();
        runTasks(ends[0]).get(30, TimeUnit.SECONDS);
        assertEquals(1, chosen.get());
        assertTrue(ends[0].engine().getHandshakeStatus() != SSLEngineResult.HandshakeStatus.NEED_TASK, "the task ran");
        ends[0].release();
        ends[1].release();
    }

    @Test
    void aHandshakeThatFailsWhileItsTaskRunsDoesNotWaitForTheTask() throws Exception {
        hold = true;
        TlsChannel[] ends = serverWantingItsTask();
        CompletableFuture<Void> back = runTasks(ends[0]);
        assertTrue(entered.await(30, TimeUnit.SECONDS), "the task is inside the certificate choice, the engine's lock held");
        // The handshake deadline passes now: the loop sends the alert and closes. The engine is the task's.
        CompletableFuture<Void> alert = CompletableFuture.runAsync(ends[0]::sendAlert);
        try {
            alert.get(10, TimeUnit.SECONDS); // without the check, this waits for the task: the loop would stall as long
        } finally {
            go.countDown();
        }
        ends[0].release();
        back.get(30, TimeUnit.SECONDS);
        ends[1].release();
    }
}
