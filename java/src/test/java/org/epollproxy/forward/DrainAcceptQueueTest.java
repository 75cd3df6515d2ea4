package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A drain must not reset the connections the kernel has completed and queued on a listener that the proxy
 * has not accepted yet: with every loop held busy, 300 clients connect (the kernel completes them into the
 * backlog) and send a payload of their own; the drain is posted behind the hold; once the loops run again,
 * every one of the 300 is served its own bytes and none is reset.
 */
class DrainAcceptQueueTest {
    static final int QUEUED = 300;
    /**
     * The loops are held longer than this, as busy loops may be when a drain begins: the connects of the
     * clients the drain takes in must count from when they begin, not from the loop's last wakeup (they
     * timed out at once, and the clients were reset, when they counted from it). Below the default 5 s
     * to keep the test short; far above what taking in and connecting 300 clients takes, even at load 25.
     */
    static final int CONNECT_TIMEOUT_MS = 3000;

    @Test
    void aDrainTakesInTheConnectionsWaitingInTheAcceptQueueAndServesEveryOne() throws Exception {
        try (TestBackend backend = TestBackend.echo();
                TestProxy proxy = new TestProxy(Settings.builder().threads(2).connectTimeoutMs(CONNECT_TIMEOUT_MS).build(),
                        backend.port())) {
            int loops = proxy.proxy.loops().size();
            CountDownLatch held = new CountDownLatch(loops);
            CountDownLatch release = new CountDownLatch(1);
            for (int i = 0; i < loops; i++) {
                proxy.proxy.loops().get(i).execute(() -> {
                    held.countDown();
                    try {
                        release.await(60, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
            }
            assertTrue(held.await(30, TimeUnit.SECONDS), "every loop held");
            long heldSince = System.nanoTime();
            List<Socket> queued = new ArrayList<>();
            try {
                for (int i = 0; i < QUEUED; i++) {
                    Socket s = ClientLimitsTest.from("127.0.0.1", proxy.port()); // completed by the kernel, queued
                    s.getOutputStream().write(("queued " + i).getBytes(StandardCharsets.US_ASCII));
                    s.shutdownOutput();
                    queued.add(s);
                }
                // connect() may return before the kernel has queued the connection on the listener (the last
                // ACK can still wait in a busy machine's softirq backlog); one not queued yet when the listener
                // closes is reset, and no drain can take it in. Wait until the accept queues hold all of them.
                awaitAcceptQueue(proxy.port(), QUEUED);
                // Not a synchronisation: the condition under test, loops busy past --connect-timeout.
                long holdUntil = heldSince + TimeUnit.MILLISECONDS.toNanos(CONNECT_TIMEOUT_MS + 500);
                while (System.nanoTime() - holdUntil < 0) Thread.sleep(10);
                assertEquals(QUEUED, proxy.proxy.drain(30_000) + QUEUED, "nothing accepted yet when the drain begins");
                release.countDown();
                List<String> failed = new ArrayList<>();
                for (int i = 0; i < QUEUED; i++) {
                    try {
                        byte[] got = queued.get(i).getInputStream().readAllBytes();
                        assertArrayEquals(("queued " + i).getBytes(StandardCharsets.US_ASCII), got, "connection " + i);
                    } catch (IOException e) {
                        failed.add(i + ": " + e.getMessage());
                    }
                }
                assertTrue(failed.isEmpty(), failed.size() + " of " + QUEUED + " queued connections failed: " + failed
                        + "\nproxy log (the end= lines say why):\n" + tail(proxy.log(), 4000));
                assertTrue(proxy.proxy.awaitStopped(30, TimeUnit.SECONDS), "the drain ends once they are served");
                assertEquals(0, proxy.proxy.resetAtShutdown());
                assertEquals(QUEUED, backend.accepted.get());
            } finally {
                release.countDown();
                for (Socket s : queued) s.close();
            }
        }
    }

    /**
     * Connections waiting in the accept queues of the listening sockets on 127.0.0.1:{@code port} (each loop's
     * SO_REUSEPORT socket): for a socket in LISTEN, the rx_queue column of /proc/net/tcp is the length of its
     * accept queue (what {@code ss -ltn} shows as Recv-Q).
     */
    static int acceptQueue(int port) throws IOException {
        String local = String.format("0100007F:%04X", port); // 127.0.0.1 as the kernel prints it
        int n = 0;
        for (String line : Files.readAllLines(Path.of("/proc/net/tcp"))) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 5 || !f[3].equals("0A") || !f[1].equalsIgnoreCase(local)) continue; // 0A: TCP_LISTEN
            n += Integer.parseInt(f[4].substring(f[4].indexOf(':') + 1), 16);
        }
        return n;
    }

    static void awaitAcceptQueue(int port, int want) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(TestProxy.AWAIT_S);
        int n;
        while ((n = acceptQueue(port)) != want) {
            assertTrue(System.nanoTime() - end < 0, "the accept queues of port " + port + " hold " + n + " connections, not " + want);
            Thread.sleep(10);
        }
    }

    private static String tail(String s, int chars) {
        return s.length() <= chars ? s : "..." + s.substring(s.length() - chars);
    }

    /**
     * After a takeover the successor accepts from the same listening sockets (and under socket activation
     * systemd keeps them): a drain leaves their backlog to that holder instead of pulling the queued clients
     * into a process that is exiting. Here a dup of each listening fd stands for the other process.
     */
    @Test
    void withTheSocketsHeldElsewhereADrainLeavesTheBacklogToTheirOtherHolder() throws Exception {
        org.epollproxy.shim.Kernel k = org.epollproxy.shim.Shim.load();
        try (TestBackend backend = TestBackend.echo(); TestProxy proxy = new TestProxy(Settings.builder().build(), backend.port())) {
            CountDownLatch held = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            proxy.proxy.loops().get(0).execute(() -> {
                held.countDown();
                try {
                    release.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(held.await(30, TimeUnit.SECONDS), "the loop held");
            int listening = proxy.proxy.beginHandOver().values().iterator().next()[0];
            proxy.proxy.handOverEnded();
            int successor = k.dup(listening); // the other process's copy of the socket
            assertTrue(successor >= 0, "dup: " + successor);
            List<Socket> queued = new ArrayList<>();
            try {
                for (int i = 0; i < 20; i++) queued.add(ClientLimitsTest.from("127.0.0.1", proxy.port()));
                proxy.proxy.drain(30_000, false);
                release.countDown();
                assertTrue(proxy.proxy.awaitStopped(30, TimeUnit.SECONDS), "nothing open: the drain ends at once");
                int taken = 0;
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (taken < queued.size() && System.nanoTime() < end) {
                    int fd = k.accept(successor, 0);
                    if (fd >= 0) {
                        taken++;
                        k.close(fd);
                    } else {
                        Thread.sleep(5); // the dup shares the listener's O_NONBLOCK: EAGAIN until one is there
                    }
                }
                assertEquals(queued.size(), taken, "every queued client waits for the socket's other holder");
                assertEquals(0, backend.accepted.get(), "none was taken in by the draining process");
            } finally {
                release.countDown();
                k.close(successor);
                for (Socket s : queued) s.close();
            }
        }
    }
}
