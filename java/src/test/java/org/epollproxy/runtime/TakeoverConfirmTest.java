package org.epollproxy.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import org.epollproxy.Ports;
import org.epollproxy.forward.Backend;
import org.epollproxy.forward.Forward;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.NativeBuffer;
import org.epollproxy.shim.Net;
import org.epollproxy.shim.Shim;
import org.epollproxy.shim.SockAddr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The running process handed the sockets over and then went (a SIGTERM drain closed its control socket, or
 * it died) before the new process said "ok". The new process already serves on those sockets: a failed "ok"
 * must not end its start (an exit there left nobody listening), it only means nobody hears it.
 */
@Timeout(60)
class TakeoverConfirmTest {
    @TempDir
    Path dir;

    private final Kernel real = Shim.load();

    @Test
    void anOkThatNobodyHearsDoesNotFailTheStart() throws Exception {
        int port = Ports.free();
        Forward f = new Forward(SockAddr.parse("127.0.0.1", port), List.of(new Backend("127.0.0.1", SockAddr.parse("127.0.0.1", 9))));
        int listening = real.socket(Net.AF_INET, Net.SOCK_STREAM | Net.SOCK_CLOEXEC, 0);
        NativeBuffer la = NativeBuffer.allocate(SockAddr.SIZE);
        SockAddr.parse("127.0.0.1", port).write(la.buffer(), 0);
        assertEquals(0, real.bind(listening, la.address()));
        assertEquals(0, real.listen(listening, 16));

        Path ctl = dir.resolve("ctl.sock");
        int server = real.socket(Net.AF_UNIX, Net.SOCK_STREAM | Net.SOCK_CLOEXEC, 0);
        NativeBuffer a = ControlServer.unixAddress(ctl.toString());
        assertEquals(0, real.bind(server, a.address()));
        java.lang.ref.Reference.reachabilityFence(a);
        assertEquals(0, real.listen(server, 4));
        // A running process that reads the whole request, hands the socket over, and hangs up at once.
        Thread old = new Thread(() -> {
            int c = real.accept(server, 0);
            if (c < 0) return;
            NativeBuffer b = NativeBuffer.allocate(512);
            StringBuilder got = new StringBuilder();
            long end = System.nanoTime() + 30_000_000_000L;
            while (!got.toString().endsWith("end\n") && System.nanoTime() < end) {
                int n = real.read(c, b.address(), 512);
                if (n == -Errno.EAGAIN) LockSupport.parkNanos(5_000_000); // the accepted socket is non-blocking
                else if (n <= 0) break;
                else for (int i = 0; i < n; i++) got.append((char) b.buffer().get(i));
            }
            ControlChannel ch = new ControlChannel(real, c, false);
            ch.send("fd 0 " + f.key(), listening);
            ch.send("end", -1);
            ch.flush(); // a few bytes into an empty socket buffer
            real.close(c);
        });
        old.start();
        try (Takeover t = Takeover.request(real, ctl.toString(), 1, List.of(f), 20_000)) {
            old.join(30_000);
            assertFalse(old.isAlive());
            assertFalse(t.confirm(), "nobody heard the ok");
            for (int[] fds : t.sockets().values()) for (int fd : fds) real.close(fd);
        } finally {
            real.close(server);
            real.close(listening);
        }
    }
}
