package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.epollproxy.Ports;
import org.epollproxy.forward.balance.BackendInfo;
import org.epollproxy.shim.SockAddr;
import org.junit.jupiter.api.Assumptions;
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

    @Test
    void aKilledBackendGoesDownWithinFallTimesIntervalWithNoClientAndComesBackAfterRise() throws Exception {
        int interval = 200;
        TestBackend a = BalanceTest.tagged('a');
        int portA = a.port();
        try (TestBackend b = BalanceTest.tagged('b');
                TestProxy p = new TestProxy(Settings.builder().threads(2).build(),
                        List.of(BalanceTest.forward(checks(interval, 2, 2, null, null), a, b)))) {
            TestProxy.await(() -> info(p, portA).checks() >= 2, "checks run");
            assertTrue(info(p, portA).up());
            a.close();
            long t0 = System.nanoTime();
            TestProxy.await(() -> !info(p, portA).up(), "backend a marked down by checks");
            long ms = (System.nanoTime() - t0) / 1_000_000;
            // fall * interval, plus one interval for where in its cycle the check was, plus scheduling slack
            assertTrue(ms <= 2 * interval + interval + 1000, "down after " + ms + " ms");
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
                assertTrue(upMs <= 3 * interval + 1000, "up after " + upMs + " ms");
                p.awaitLog("backend 127.0.0.1:" + portA + " of 127.0.0.1:" + p.port() + " up: 2 consecutive checks passed");
            }
            assertEquals(2, info(p, portA).transitions());
        }
    }

    @Test
    void sendAndExpectAgainstARealRedisAndABackendThatAnswersWrong() throws Exception {
        Path redis = Path.of("/usr/bin/redis-server");
        if (!Files.isExecutable(redis)) {
            new ProcessBuilder("bash", "-c", "apt-get -o DPkg::Lock::Timeout=600 install -y -q redis-server || "
                    + "(apt-get update -q && apt-get -o DPkg::Lock::Timeout=600 install -y -q redis-server)")
                    .inheritIO().start().waitFor(600, TimeUnit.SECONDS);
        }
        Assumptions.assumeTrue(Files.isExecutable(redis), "redis-server could not be installed");
        int port = Ports.free();
        Process r = new ProcessBuilder(redis.toString(), "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try (TestBackend wrong = TestBackend.start(s -> {
                    s.getInputStream().read(new byte[64]);
                    s.getOutputStream().write("-ERR unknown command\r\n".getBytes());
                    s.getInputStream().read();
                })) {
            TestProxy.await(() -> {
                try (Socket s = new Socket("127.0.0.1", port)) {
                    return true;
                } catch (IOException e) {
                    return false;
                }
            }, "redis listening");
            Forward f = new Forward(SockAddr.parse("127.0.0.1", 0), List.of(TestProxy.backend(port), TestProxy.backend(wrong.port())))
                    .withBalancing(checks(100, 1, 1, "PING\r\n", "+PONG"));
            try (TestProxy p = new TestProxy(Settings.DEFAULTS, List.of(f))) {
                TestProxy.await(() -> info(p, port).checks() >= 3 && info(p, wrong.port()).checks() >= 1, "checks run");
                BackendInfo ok = info(p, port);
                assertTrue(ok.up() && ok.checkFailures() == 0 && "passed".equals(ok.lastCheck()), "redis on " + port + ": " + ok + "\n" + p.log());
                BackendInfo bad = info(p, wrong.port());
                assertTrue(!bad.up() && bad.lastFailure().contains("unexpected reply \"-"), bad.toString());
            }
        } finally {
            r.destroy();
            r.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
