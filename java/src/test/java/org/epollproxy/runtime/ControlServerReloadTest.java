package org.epollproxy.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.epollproxy.Ports;
import org.epollproxy.forward.Backend;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.Settings;
import org.epollproxy.shim.InterposedKernel;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.Shim;
import org.epollproxy.shim.SockAddr;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A takeover that arrives while a SIGHUP reload runs: the control socket is served by loop 0, and a reload
 * waits for every loop (loop 0 too) while it holds the proxy's lock. Loop 0 must refuse the takeover at
 * once ("reloading"), never wait for that lock: else loop 0 (its connections, the control socket) stood
 * still until the reload gave up on it after 5 s, the reload failed for no fault of its own, and the new
 * process's request ran out of time.
 */
@Timeout(90)
class ControlServerReloadTest {
    @TempDir
    Path dir;

    private final Kernel real = Shim.load();
    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    private ProxyServer proxy;

    @AfterEach
    void stop() throws Exception {
        if (proxy != null) proxy.stop(10, TimeUnit.SECONDS);
    }

    @Test
    void aTakeoverDuringAReloadIsRefusedAtOnceAndTheReloadStillApplies() throws Exception {
        AtomicBoolean holdNextBind = new AtomicBoolean();
        CountDownLatch inBind = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        // The reload's bind of its new listener waits until the takeover has its answer: the reload is in progress.
        Kernel k = InterposedKernel.over(real, (name, args, call) -> {
            if (name.equals("bind") && holdNextBind.getAndSet(false)) {
                inBind.countDown();
                release.await(60, TimeUnit.SECONDS);
            }
            return call.invoke();
        });
        proxy = new ProxyServer(k, Settings.DEFAULTS, new PrintStream(errBytes, true, StandardCharsets.UTF_8));
        Forward first = new Forward(SockAddr.parse("127.0.0.1", 0), List.of(new Backend("127.0.0.1", SockAddr.parse("127.0.0.1", 9))));
        List<Forward> forwards = proxy.start(List.of(first));
        Path ctl = dir.resolve("ctl.sock");
        ControlServer c = ControlServer.bind(real, ctl, false);
        c.start(proxy, why -> {}, proxy.forwardingLoops().get(0).log());

        Forward added = new Forward(SockAddr.parse("127.0.0.1", Ports.free()), List.of(new Backend("127.0.0.1", SockAddr.parse("127.0.0.1", 9))));
        holdNextBind.set(true);
        CompletableFuture<String> reload = CompletableFuture.supplyAsync(() -> {
            try {
                return proxy.reconfigure(List.of(first, added));
            } catch (Exception e) {
                return "failed: " + e.getMessage();
            }
        });
        assertTrue(inBind.await(30, TimeUnit.SECONDS), "the reload began");
        Takeover.TakeoverException refused;
        try {
            // Well under the reload's own 5 s wait for the loops, so that a loop 0 stuck on the lock shows as "no answer".
            refused = assertThrows(Takeover.TakeoverException.class, () -> Takeover.request(real, ctl.toString(), 1, forwards, 4_000));
        } finally {
            release.countDown();
        }
        assertEquals("--takeover " + ctl + ": the running process refused: this process is draining or reloading", refused.getMessage());
        assertEquals("1 added, 0 removed, 0 changed, 1 unchanged", reload.get(60, TimeUnit.SECONDS));
        assertFalse(proxy.draining());

        // Once the reload is over, a takeover goes through.
        List<Forward> now = proxy.forwards();
        try (Takeover t = Takeover.request(real, ctl.toString(), 1, now, 20_000)) {
            assertEquals(2, t.sockets().size());
            for (int[] fds : t.sockets().values()) for (int fd : fds) real.close(fd);
        }
        c.closeLater();
    }

    /**
     * Once a successor has the sockets, this process only drains: a reload between the "ok" and the drain
     * (and the drain runs on loop 0, which must not wait for a reload's lock) would bind listeners again.
     */
    @Test
    void afterASuccessorTookTheSocketsNoReloadRuns() throws Exception {
        proxy = new ProxyServer(real, Settings.DEFAULTS, new PrintStream(errBytes, true, StandardCharsets.UTF_8));
        Forward first = new Forward(SockAddr.parse("127.0.0.1", 0), List.of(new Backend("127.0.0.1", SockAddr.parse("127.0.0.1", 9))));
        List<Forward> forwards = proxy.start(List.of(first));
        Path ctl = dir.resolve("ctl.sock");
        CountDownLatch takenOver = new CountDownLatch(1);
        ControlServer c = ControlServer.bind(real, ctl, false);
        c.start(proxy, why -> takenOver.countDown(), proxy.forwardingLoops().get(0).log()); // no drain: the window stays open
        try (Takeover t = Takeover.request(real, ctl.toString(), 1, forwards, 20_000)) {
            t.confirm();
            for (int[] fds : t.sockets().values()) for (int fd : fds) real.close(fd);
        }
        assertTrue(takenOver.await(30, TimeUnit.SECONDS), "the takeover went through");
        Forward added = new Forward(SockAddr.parse("127.0.0.1", Ports.free()), List.of(new Backend("127.0.0.1", SockAddr.parse("127.0.0.1", 9))));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> proxy.reconfigure(List.of(first, added)));
        assertEquals("a takeover is handing the listening sockets over", e.getMessage());
    }
}
