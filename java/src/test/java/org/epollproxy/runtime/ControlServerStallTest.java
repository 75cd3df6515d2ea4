package org.epollproxy.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
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
 * Peers of our uid that each send a line and then stall fill every place of --control; a real takeover
 * still gets in at once (the peer idle longest makes room), not after their deadline.
 */
@Timeout(90)
class ControlServerStallTest {
    @TempDir
    Path dir;

    private final Kernel real = Shim.load();
    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    private final List<SocketChannel> stalled = new ArrayList<>();
    private ProxyServer proxy;

    @AfterEach
    void stop() throws Exception {
        for (SocketChannel c : stalled) c.close();
        if (proxy != null) proxy.stop(10, TimeUnit.SECONDS);
    }

    private String log() {
        synchronized (errBytes) {
            return errBytes.toString(StandardCharsets.UTF_8);
        }
    }

    @Test
    void peersThatSentALineAndStalledDoNotKeepARealTakeoverOut() throws Exception {
        AtomicInteger linesRead = new AtomicInteger(); // reads that brought bytes: one per stalled peer's line
        Kernel counting = InterposedKernel.over(real, (name, args, call) -> {
            Object r = call.invoke();
            if (name.equals("recv_fd") && ((Integer) r) > 0) linesRead.incrementAndGet();
            return r;
        });
        proxy = new ProxyServer(real, Settings.DEFAULTS, new PrintStream(errBytes, true, StandardCharsets.UTF_8));
        List<Forward> forwards = proxy.start(List.of(new Forward(SockAddr.parse("127.0.0.1", 0),
                List.of(new Backend("127.0.0.1", SockAddr.parse("127.0.0.1", 9))))));
        AtomicReference<String> takenOver = new AtomicReference<>();
        ControlServer c = ControlServer.bind(counting, dir.resolve("ctl.sock"), false);
        c.start(proxy, takenOver::set, proxy.forwardingLoops().get(0).log());
        for (int i = 0; i < ControlServer.MAX_PEERS; i++) {
            SocketChannel s = SocketChannel.open(UnixDomainSocketAddress.of(dir.resolve("ctl.sock")));
            stalled.add(s);
            s.write(ByteBuffer.wrap("takeover 1 threads=1\n".getBytes(StandardCharsets.US_ASCII)));
        }
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (linesRead.get() < ControlServer.MAX_PEERS) { // every place taken by a peer that has spoken
            if (System.nanoTime() > end) throw new AssertionError("the stalled peers' lines were not read: " + linesRead);
            Thread.sleep(5);
        }
        try (Takeover t = Takeover.request(real, dir.resolve("ctl.sock").toString(), 1, forwards, 20_000)) {
            assertEquals(1, t.sockets().size());
            t.confirm();
            for (int[] fds : t.sockets().values()) for (int fd : fds) real.close(fd);
        }
        end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!"takeover".equals(takenOver.get())) {
            if (System.nanoTime() > end) throw new AssertionError("the takeover did not go through:\n" + log());
            Thread.sleep(5);
        }
        String said = log();
        assertEquals(true, said.contains("control: takeover ended: the peer stalled for "), said);
    }
}
