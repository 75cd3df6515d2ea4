package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.epollproxy.Ports;
import org.epollproxy.forward.balance.BackendInfo;
import org.epollproxy.shim.SockAddr;
import org.junit.jupiter.api.Test;

/** Active checks with real sockets: no client involved, the loop's own timers and non-blocking connects. */
class HealthCheckTest {

    static BackendInfo info(TestProxy p, int port) {
        for (BackendInfo b : p.proxy.backendPool().snapshot()) if (b.backend().endsWith(":" + port)) return b;
        throw new AssertionError("no backend on port " + port);
    }

    static Balancing checks(int intervalMs, int rise, int fall, String send, String expect) {
        return new Balancing(Balancing.Policy.ROUNDROBIN, 3, 10_000, intervalMs, rise, fall, send, expect);
    }

    /**
     * Checks alone take a killed backend down and bring it back. The bounds are generous (a loaded machine
     * stalls loops and timers for seconds); what they exclude is a backend that never goes down or up, or
     * one that waits for a client to notice.
     */
    @Test
    void aKilledBackendGoesDownWithinFallTimesIntervalWithNoClientAndComesBackAfterRise() throws Exception {
        // Each check's deadline is the interval: long enough that a busy machine does not fail a healthy one.
        int interval = 500;
        TestBackend a = BalanceTest.tagged('a');
        int portA = a.port();
        try (TestBackend b = BalanceTest.tagged('b');
                TestProxy p = new TestProxy(Settings.builder().threads(2).build(),
                        List.of(BalanceTest.forward(checks(interval, 2, 2, null, null), a, b)))) {
            TestProxy.await(() -> info(p, portA).checks() >= 2, "checks run");
            assertTrue(info(p, portA).up(), info(p, portA).toString());
            a.close();
            long t0 = System.nanoTime();
            TestProxy.await(() -> !info(p, portA).up(), "backend a marked down by checks");
            long ms = (System.nanoTime() - t0) / 1_000_000;
            // fall * interval, plus one interval for where in its cycle the check was, plus a loaded machine's stalls
            assertTrue(ms <= 3 * interval + SLACK_MS, "down after " + ms + " ms");
            p.awaitLog("backend 127.0.0.1:" + portA + " of 127.0.0.1:" + p.port() + " down: 2 consecutive checks failed");
            assertEquals(0, p.stats(0).accepted, "no client was involved");
            assertEquals("checks", info(p, portA).downReason());
            for (int i = 0; i < 4; i++) assertEquals('b', BalanceTest.once(p, null), "roundrobin skips the down backend");

            try (ServerSocket again = new ServerSocket()) {
                again.setReuseAddress(true);
                again.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), portA), 50);
                long t1 = System.nanoTime();
                TestProxy.await(() -> info(p, portA).up(), "backend a back up after 2 passed checks");
                long upMs = (System.nanoTime() - t1) / 1_000_000;
                assertTrue(upMs <= 3 * interval + SLACK_MS, "up after " + upMs + " ms");
                p.awaitLog("backend 127.0.0.1:" + portA + " of 127.0.0.1:" + p.port() + " up: 2 consecutive checks passed");
            }
            assertEquals(2, info(p, portA).transitions());
        }
    }

    /** What a loaded machine (load average 25 on 2 cores, seen here) may add to a few timer periods. */
    private static final int SLACK_MS = 10_000;

    /**
     * send/expect against a real redis passes, and a backend that answers something else fails. The test
     * waits until redis answers PING itself (a listening socket is not yet a server that answers), and
     * each check may take {@link #REDIS_CHECK_MS}: a just-started redis on a loaded machine missed 100 ms.
     */
    @Test
    void sendAndExpectAgainstARealRedisAndABackendThatAnswersWrong() throws Exception {
        String redis = ThirdParty.require("redis-server", "redis-server");
        int port = Ports.free();
        Process r = new ProcessBuilder(redis, "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try (TestBackend wrong = TestBackend.start(s -> {
                    s.getInputStream().read(new byte[64]);
                    s.getOutputStream().write("-ERR unknown command\r\n".getBytes());
                    s.getInputStream().read();
                })) {
            TestProxy.await(() -> r.isAlive() && answersPing(port), "redis answering PING on " + port);
            Forward f = new Forward(SockAddr.parse("127.0.0.1", 0), List.of(TestProxy.backend(port), TestProxy.backend(wrong.port())))
                    .withBalancing(checks(REDIS_CHECK_MS, 1, 1, "PING\r\n", "+PONG"));
            try (TestProxy p = new TestProxy(Settings.DEFAULTS, List.of(f))) {
                TestProxy.await(() -> info(p, port).checks() >= 2 && info(p, wrong.port()).checks() >= 1, "checks run");
                BackendInfo ok = info(p, port);
                assertTrue(ok.up() && "passed".equals(ok.lastCheck()), "redis on " + port + ": " + ok + "\n" + p.log());
                // A check that a stalled machine let run out of time is no verdict on send/expect; any other is.
                assertTrue(ok.checkFailures() == 0 || ok.lastFailure().contains("in time"), "redis on " + port + ": " + ok);
                BackendInfo bad = info(p, wrong.port());
                assertTrue(!bad.up() && bad.lastFailure().contains("unexpected reply \"-"), bad.toString());
            }
        } finally {
            ThirdParty.stop(r);
        }
    }

    /** The interval of the redis checks, which is also each check's deadline. */
    private static final int REDIS_CHECK_MS = 2_000;

    /** True once the server on {@code port} answers PING with +PONG. */
    private static boolean answersPing(int port) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(5_000);
            s.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            byte[] reply = new byte[7];
            int n = s.getInputStream().readNBytes(reply, 0, reply.length);
            return new String(reply, 0, n, StandardCharsets.US_ASCII).equals("+PONG\r\n");
        } catch (IOException e) {
            return false;
        }
    }
}
