package org.epollproxy.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.epollproxy.forward.Backend;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.Settings;
import org.epollproxy.shim.Shim;
import org.epollproxy.shim.SockAddr;
import org.junit.jupiter.api.Test;

/**
 * A SIGHUP reload does not wait behind a DNS round whose server is silent: the round's lookups hold no
 * lock. And a name the caller has just resolved (the start, a reload) is not asked again.
 */
class ReresolverRoundLockTest {

    private static Forward named(int port, String name) throws Exception {
        return new Forward(SockAddr.of(InetAddress.getByName("127.0.0.1"), port),
                List.of(new Backend(name, SockAddr.of(InetAddress.getByName("127.0.0.2"), 8080), 1)));
    }

    @Test
    void aReloadGoesThroughWhileARoundWaitsForTheDnsServer() throws Exception {
        CountDownLatch inLookup = new CountDownLatch(1);
        CountDownLatch answer = new CountDownLatch(1);
        AtomicInteger lookups = new AtomicInteger();
        ProxyServer proxy = new ProxyServer(Shim.load(), Settings.DEFAULTS, new PrintStream(new ByteArrayOutputStream(), true));
        Reresolver names = new Reresolver(name -> {
            lookups.incrementAndGet();
            inLookup.countDown();
            if (!answer.await(60, TimeUnit.SECONDS)) throw new Exception("the test never answered");
            return List.of(InetAddress.getByName("127.0.0.2"));
        }, 3_600_000, new PrintStream(new ByteArrayOutputStream(), true));
        // Threads of the test's own: on two cores JDK 25's common pool has one worker, which the round's
        // lookup holds, so the reload queued behind it and the test timed out.
        java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newCachedThreadPool();
        try {
            List<InetAddress> known = List.of(InetAddress.getByName("127.0.0.2"));
            Forward first = named(org.epollproxy.Ports.free(), "app.test");
            List<Forward> reloaded = List.of(first, named(org.epollproxy.Ports.free(), "other.test"));
            proxy.start(names.expandAtStart(List.of(first), Map.of("app.test", known)));
            names.start(proxy);
            assertEquals(0, lookups.get(), "the name resolved by the caller is not asked again at start");

            CompletableFuture<Void> round = CompletableFuture.runAsync(names::round, threads);
            assertTrue(inLookup.await(30, TimeUnit.SECONDS), "the round is asking the DNS server");
            String summary = CompletableFuture.supplyAsync(() -> {
                try {
                    return names.reconfigure(reloaded, Map.of("other.test", known));
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }, threads).get(30, TimeUnit.SECONDS); // without the fix: blocked until the round's lookup ends (never, here)
            assertEquals("1 added, 0 removed, 0 changed, 1 unchanged", summary);
            assertEquals(1, round.isDone() ? -1 : lookups.get(), "the round still waits for its answer; no other lookup was made");
            answer.countDown();
            round.get(30, TimeUnit.SECONDS);
            assertEquals(2, proxy.forwards().size());
        } finally {
            answer.countDown();
            names.stop();
            proxy.stop(10, TimeUnit.SECONDS);
            threads.shutdownNow();
        }
    }
}
