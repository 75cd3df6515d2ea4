package org.epollproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.epollproxy.forward.Backend;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.Settings;
import org.epollproxy.runtime.ProxyServer;
import org.epollproxy.shim.Shim;
import org.epollproxy.shim.SockAddr;
import org.junit.jupiter.api.Test;

/**
 * Two SIGTERMs at once: the first drains, the second stops now, and the log says so in that order. The
 * first signal's "began" line is held while it is being written (as a slow stderr, or a drain thread a
 * loaded machine does not run for seconds, would) until the second signal's handler has returned: its
 * "stopping now" must still come after. (Held for 2 s instead, it passed against a stop that waited 3 s for
 * "began" and then wrote its line anyway, and failed under load.)
 */
class ShutdownOrderTest {

    /** stderr whose "drain: began" line waits until a "stopping now" line is written first, or {@link #letGo} (30 s at most). */
    static final class SlowBegan extends PrintStream {
        final List<String> lines = new ArrayList<>();
        final CountDownLatch writingBegan = new CountDownLatch(1);
        final CountDownLatch stoppingWritten = new CountDownLatch(1);
        /** The test counts it down once the second signal's handler returned. */
        final CountDownLatch letGo = new CountDownLatch(1);

        SlowBegan() {
            super(new ByteArrayOutputStream(), true);
        }

        @Override
        public void println(String x) {
            if (x.contains("drain: began")) {
                writingBegan.countDown();
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                try { // with the fix "stopping now" never comes first: held until the test lets go
                    while (stoppingWritten.getCount() > 0 && !letGo.await(10, TimeUnit.MILLISECONDS) && System.nanoTime() < end) {
                        // waiting for one of the two
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            synchronized (lines) {
                lines.add(x);
            }
            if (x.contains("drain: stopping now")) stoppingWritten.countDown();
        }

        List<String> lines() {
            synchronized (lines) {
                return List.copyOf(lines);
            }
        }
    }

    @Test
    void aSecondSigtermDuringTheFirstsBeganLineLogsStoppingNowAfterIt() throws Exception {
        SlowBegan err = new SlowBegan();
        ProxyServer proxy = new ProxyServer(Shim.load(), Settings.DEFAULTS, err);
        proxy.start(List.of());
        Shutdown shutdown = new Shutdown(proxy, new Logs(err), null, 30, err, null);
        Thread first = new Thread(() -> shutdown.drain("SIGTERM"));
        first.start();
        assertTrue(err.writingBegan.await(30, TimeUnit.SECONDS), "the first SIGTERM writes its line");
        Thread second = new Thread(() -> {
            if (proxy.draining()) shutdown.stop(); // what Main's SIGTERM handler does when a drain has begun
            else shutdown.drain("SIGTERM");
        });
        second.start();
        first.join(30_000);
        second.join(30_000);
        err.letGo.countDown();
        assertTrue(proxy.awaitStopped(30, TimeUnit.SECONDS), "the second SIGTERM stopped the proxy");
        List<String> lines = awaitLine(err, "drain: stopping now");
        int began = indexOf(lines, "drain: began");
        int stopping = indexOf(lines, "drain: stopping now");
        assertTrue(began >= 0 && stopping >= 0, lines.toString());
        assertTrue(began < stopping, "\"began\" before \"stopping now\": " + lines);
        assertEquals(1, lines.stream().filter(l -> l.contains("drain: began")).count(), lines.toString());
    }

    @Test
    void twoSigtermsThatBothSeeNoDrainYetStillStopOnTheSecond() throws Exception {
        SlowBegan err = new SlowBegan();
        try (java.net.ServerSocket backend = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            ProxyServer proxy = new ProxyServer(Shim.load(), Settings.DEFAULTS, err);
            SockAddr to = SockAddr.parse("127.0.0.1", backend.getLocalPort());
            List<Forward> bound = proxy.start(List.of(new Forward(SockAddr.parse("127.0.0.1", 0), List.of(new Backend("127.0.0.1", to, 1)))));
            try (java.net.Socket held = new java.net.Socket("127.0.0.1", bound.get(0).bind().port())) {
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (proxy.openConnections() == 0 && System.nanoTime() < end) Thread.sleep(5);
                assertEquals(1, proxy.openConnections(), "one connection open: the drain waits for it");
                Shutdown shutdown = new Shutdown(proxy, new Logs(err), null, 3600, err, null);
                shutdown.drain("SIGTERM");
                shutdown.drain("SIGTERM"); // the second handler also saw no drain when it looked
                err.letGo.countDown();
                assertTrue(proxy.awaitStopped(10, TimeUnit.SECONDS), "the second SIGTERM is not lost: " + err.lines());
                List<String> lines = awaitLine(err, "drain: stopping now");
                assertTrue(indexOf(lines, "drain: began") >= 0, lines.toString());
                assertTrue(indexOf(lines, "drain: stopping now") > indexOf(lines, "drain: began"), lines.toString());
            }
        }
    }

    @Test
    void aTakeoverConfirmedDuringASigtermDrainDoesNotStopIt() throws Exception {
        // A successor took the sockets over while a SIGTERM drain was under way: that is no second signal, so
        // the open connection keeps its drain time instead of being reset.
        SlowBegan err = new SlowBegan();
        err.letGo.countDown(); // no second signal here: "began" is not held
        try (java.net.ServerSocket backend = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            ProxyServer proxy = new ProxyServer(Shim.load(), Settings.DEFAULTS, err);
            SockAddr to = SockAddr.parse("127.0.0.1", backend.getLocalPort());
            List<Forward> bound = proxy.start(List.of(new Forward(SockAddr.parse("127.0.0.1", 0), List.of(new Backend("127.0.0.1", to, 1)))));
            try (java.net.Socket held = new java.net.Socket("127.0.0.1", bound.get(0).bind().port())) {
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (proxy.openConnections() == 0 && System.nanoTime() < end) Thread.sleep(5);
                Shutdown shutdown = new Shutdown(proxy, new Logs(err), null, 3600, err, null);
                shutdown.drain("SIGTERM");
                shutdown.drain("takeover");
                assertTrue(!proxy.awaitStopped(1, TimeUnit.SECONDS), "still draining, not stopped: " + err.lines());
                assertEquals(1, proxy.openConnections(), "the open connection is not reset");
                assertEquals(-1, indexOf(err.lines(), "drain: stopping now"), err.lines().toString());
                shutdown.stop();
                assertTrue(proxy.awaitStopped(10, TimeUnit.SECONDS));
            }
        }
    }

    /**
     * The lines once one contains {@code text} (at most 30 s): a starved drain thread may write "began", and
     * the "stopping now" held for it, after the proxy stopped; the order is what is checked, not the moment.
     */
    static List<String> awaitLine(SlowBegan err, String text) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (indexOf(err.lines(), text) < 0 && System.nanoTime() < end) Thread.sleep(10);
        return err.lines();
    }

    static int indexOf(List<String> lines, String text) {
        for (int i = 0; i < lines.size(); i++) if (lines.get(i).contains(text)) return i;
        return -1;
    }
}
