package org.epollproxy.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.epollproxy.Ports;
import org.epollproxy.forward.Backend;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.Settings;
import org.epollproxy.runtime.ProxyServer;
import org.epollproxy.shim.Shim;
import org.epollproxy.shim.SockAddr;
import org.junit.jupiter.api.Test;

/**
 * Requests that arrive while a round is under way join it: each loop copies its state once for all of them.
 * Every /connections request shares one round whatever its filters (each filter is then rendered from it):
 * a round per filter had each loop copy every connection once per distinct filter, so 1,000 requests with
 * 1,000 made-up filters cost 1,000 copies of every connection on the forwarding loops' heap.
 */
class RoundKeyTest {
    @Test
    void probesShareOneRoundAndEachPageItsOwn() {
        assertEquals(StatsServer.roundKey("/healthz", true), StatsServer.roundKey("/livez", true));
        assertNotEquals(StatsServer.roundKey("/metrics", false), StatsServer.roundKey("/healthz", true));
        assertNotEquals(StatsServer.roundKey("/metrics", false), StatsServer.roundKey("/connections", false));
    }

    @Test
    void connectionsRequestsWithDistinctFiltersShareOneRoundThatRendersABoundedNumberOfThem() throws Exception {
        int requests = 50;
        ProxyServer proxy = new ProxyServer(Shim.load(), Settings.DEFAULTS, new PrintStream(OutputStream.nullOutputStream()));
        proxy.start(List.of(new Forward(SockAddr.parse("127.0.0.1", 0), List.of(new Backend("127.0.0.1", SockAddr.parse("127.0.0.1", Ports.free()))))));
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        List<Socket> clients = new ArrayList<>();
        try (StatsServer stats = StatsServer.bind(Shim.load(), SockAddr.parse("127.0.0.1", 0), 30_000)) {
            stats.start(proxy);
            // The loop is busy (held here): every request below arrives while the first one's round waits for it.
            proxy.loops().get(0).execute(() -> {
                held.countDown();
                try {
                    release.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(held.await(30, TimeUnit.SECONDS), "the loop ran the holding task");
            long before = stats.roundsStarted();
            for (int i = 0; i < requests; i++) {
                Socket c = new Socket();
                c.connect(new InetSocketAddress("127.0.0.1", stats.address().port()), 5000);
                c.setSoTimeout(30_000);
                clients.add(c);
                c.getOutputStream().write(("GET /connections?client=10.0.0." + i + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            }
            int answered = 0;
            for (Socket c : clients) {
                String reply = new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (reply.startsWith("HTTP/1.1 503 ")) { // beyond the filters one round renders
                    assertTrue(reply.contains("different /connections filters"), reply);
                    continue;
                }
                assertTrue(reply.startsWith("HTTP/1.1 200 OK\r\n") && reply.contains("\"connections\": []"), reply);
                answered++;
            }
            long rounds = stats.roundsStarted() - before;
            // One, or a few if a round gave up on the held loop (after 1 s) before every request was read.
            assertTrue(rounds <= requests / 10, requests + " requests started " + rounds + " rounds");
            assertTrue(answered <= rounds * StatsLimits.MAX_FILTERS_PER_ROUND,
                    answered + " distinct filters answered by " + rounds + " round(s): each renders at most " + StatsLimits.MAX_FILTERS_PER_ROUND);
        } finally {
            release.countDown();
            for (Socket c : clients) c.close();
            proxy.stop(10, TimeUnit.SECONDS);
        }
    }

    /**
     * A /connections round that took long (here 1 s: the loop was held, the round gave up on it) delays the
     * next one: a request arriving right after waits for its round instead of having the loops copy every
     * connection again at once, and is answered once the gap has passed.
     */
    @Test
    void aConnectionsRoundRightAfterASlowOneWaits() throws Exception {
        ProxyServer proxy = new ProxyServer(Shim.load(), Settings.DEFAULTS, new PrintStream(OutputStream.nullOutputStream()));
        proxy.start(List.of(new Forward(SockAddr.parse("127.0.0.1", 0), List.of(new Backend("127.0.0.1", SockAddr.parse("127.0.0.1", Ports.free()))))));
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try (StatsServer stats = StatsServer.bind(Shim.load(), SockAddr.parse("127.0.0.1", 0), 30_000)) {
            stats.start(proxy);
            proxy.loops().get(0).execute(() -> {
                held.countDown();
                try {
                    release.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(held.await(30, TimeUnit.SECONDS));
            String first = ask(stats);
            assertTrue(first.contains("\"loops_answered\": 0"), "the held loop did not answer within 1 s: " + first);
            release.countDown();

            long before = onStatsLoop(stats, stats::roundsStarted);
            try (Socket c = send(stats)) {
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                long[] seen;
                do { // until the server has read the request: its round is pending, started or not
                    assertTrue(System.nanoTime() < end, "the request was not read in 30 s");
                    seen = onStatsLoop(stats, () -> new long[] {stats.roundPending("/connections") ? 1 : 0, stats.roundsStarted()});
                } while (seen[0] == 0 && seen[1] == before);
                assertEquals(before, seen[1], "a new round started at once after a round of 1 s");
                String second = new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertTrue(second.startsWith("HTTP/1.1 200 OK\r\n") && second.contains("\"loops_answered\": 1"), second);
            }
        } finally {
            release.countDown();
            proxy.stop(10, TimeUnit.SECONDS);
        }
    }

    private static Socket send(StatsServer stats) throws Exception {
        Socket c = new Socket();
        c.connect(new InetSocketAddress("127.0.0.1", stats.address().port()), 5000);
        c.setSoTimeout(30_000);
        c.getOutputStream().write("GET /connections HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        return c;
    }

    private static String ask(StatsServer stats) throws Exception {
        try (Socket c = send(stats)) {
            return new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static <T> T onStatsLoop(StatsServer stats, java.util.function.Supplier<T> f) throws Exception {
        java.util.concurrent.CompletableFuture<T> r = new java.util.concurrent.CompletableFuture<>();
        stats.loop().execute(() -> r.complete(f.get()));
        return r.get(30, TimeUnit.SECONDS);
    }
}
