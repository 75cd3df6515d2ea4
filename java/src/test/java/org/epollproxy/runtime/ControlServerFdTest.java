package org.epollproxy.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.epollproxy.forward.Backend;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.Settings;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.NativeBuffer;
import org.epollproxy.shim.Net;
import org.epollproxy.shim.Shim;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The running process never takes an fd from a peer: one that came with a line (SCM_RIGHTS) is closed as it
 * arrives. Kept until the session ended, fds sent one per byte by a peer could fill the process's fd table
 * for the whole session deadline, eight sessions at once, and accept() of real clients failed with EMFILE.
 */
@Timeout(90)
class ControlServerFdTest {
    @TempDir
    Path dir;

    private final Kernel real = Shim.load();
    private ProxyServer proxy;
    private final List<Integer> fdsToClose = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (int fd : fdsToClose) real.close(fd);
        if (proxy != null) proxy.stop(10, TimeUnit.SECONDS);
    }

    @Test
    void anFdAPeerSendsIsClosedAtOnceNotHeldForTheSession() throws Exception {
        proxy = new ProxyServer(real, Settings.DEFAULTS, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        List<Forward> forwards = proxy.start(List.of(new Forward(org.epollproxy.shim.SockAddr.parse("127.0.0.1", 0),
                List.of(new Backend("127.0.0.1", org.epollproxy.shim.SockAddr.parse("127.0.0.1", 9))))));
        Path ctl = dir.resolve("ctl.sock");
        ControlServer c = ControlServer.bind(real, ctl, false);
        c.start(proxy, why -> {}, proxy.forwardingLoops().get(0).log());

        long pipe = real.pipe2();
        assertTrue(pipe >= 0, "pipe2");
        int readEnd = (int) (pipe >>> 32), writeEnd = (int) pipe;
        fdsToClose.add(readEnd);

        int s = real.socket(Net.AF_UNIX, Net.SOCK_STREAM | Net.SOCK_NONBLOCK | Net.SOCK_CLOEXEC, 0);
        NativeBuffer addr = ControlServer.unixAddress(ctl.toString());
        assertEquals(0, real.connect(s, addr.address())); // a UNIX stream connect completes at once, even non-blocking
        java.lang.ref.Reference.reachabilityFence(addr);
        ControlChannel peer = new ControlChannel(real, s);
        // The pipe's write end rides on the first line; then a whole takeover request, so that the answer
        // proves the process read that line (lines are handled in order) while the session is still open.
        peer.send("takeover 1 threads=1", writeEnd);
        peer.send("listen " + forwards.get(0).key(), -1);
        peer.send("end", -1);
        assertTrue(peer.flush()); // three short lines into an empty socket buffer
        real.close(writeEnd);
        List<String> got = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!got.contains("end")) {
            assertTrue(System.nanoTime() < deadline, "the answer within 30 s: " + got);
            assertEquals(0, peer.read()); // non-blocking: what is there now
            assertTrue(!peer.eof(), "the process hung up: " + got);
            for (String l; (l = peer.nextLine()) != null; ) {
                got.add(l);
                if (l.startsWith("fd ")) fdsToClose.add(peer.takeFd());
            }
            if (!got.contains("end")) Thread.sleep(5);
        }
        // The session waits for our "ok" now. Had the process kept the fd we sent, the pipe would have a writer.
        NativeBuffer b = NativeBuffer.allocate(16);
        int n = real.read(readEnd, b.address(), 16);
        assertEquals(0, n, "the pipe has no writer left (EOF), not " + (n < 0 ? Errno.describe(n) : n + " bytes"));
        peer.close();
        c.closeLater();
    }
}
