package org.epollproxy.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import org.epollproxy.forward.Backend;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.Settings;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.InterposedKernel;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.Shim;
import org.epollproxy.shim.SockAddr;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A ctl reply that does not fit the control socket's buffer at once (a 'backends' list of many forwards,
 * a peer slow to read) reaches the peer whole, its final "ok" line included, also when the peer has shut
 * its sending side after the command (as {@code echo ... | socat} does). The full buffer is the shim's
 * EAGAIN on one sendmsg of the reply, over a real UNIX socket and the real loop.
 */
@Timeout(60)
class ControlReplyTest {
    private static final int BACKENDS = 6;

    @TempDir
    Path dir;

    private final Kernel real = Shim.load();
    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    private ProxyServer proxy;
    private ControlServer control;

    @AfterEach
    void stop() throws Exception {
        if (control != null) control.closeLater();
        if (proxy != null) proxy.stop(10, TimeUnit.SECONDS);
    }

    @Test
    void aReplyThatMeetsAFullSocketBufferArrivesWhole() throws Exception {
        AtomicInteger sends = new AtomicInteger();
        // The third line of the reply finds the buffer full once; the socket is writable again at once.
        Kernel k = InterposedKernel.over(real, (name, args, call) ->
                name.equals("send_fd") && sends.incrementAndGet() == 3 ? -Errno.EAGAIN : call.invoke());
        List<Backend> bs = new ArrayList<>();
        for (int i = 0; i < BACKENDS; i++) bs.add(new Backend("127.0.0.1", SockAddr.parse("127.0.0.1", 10_001 + i)));
        serve(k, List.of(new Forward(SockAddr.parse("127.0.0.1", 0), bs)));

        List<String> lines = ask("ctl 1 * backends\n");
        assertEquals(BACKENDS + 1, lines.size(), "every backend and the final line: " + lines);
        for (int i = 0; i < BACKENDS; i++) assertTrue(lines.get(i).startsWith(". ") && lines.get(i).contains("127.0.0.1:" + (10_001 + i)), lines.get(i));
        assertEquals("ok " + BACKENDS + " backend(s)", lines.get(BACKENDS));
        assertTrue(sends.get() > 3, "the EAGAIN was met: " + sends.get() + " sendmsg calls");
    }

    /**
     * A backend two forwards share: a command without --forward changes it in both, and the reply says so
     * line by line; a second one finds it already so, changes nothing and says that (exit status 0 in ctl:
     * a script may repeat a drain).
     */
    @Test
    void theReplySaysWhichBackendOfWhichForwardChangedAndWhichWasAlreadySo() throws Exception {
        Backend shared = new Backend("127.0.0.1", SockAddr.parse("127.0.0.1", 10_001));
        Backend other = new Backend("127.0.0.1", SockAddr.parse("127.0.0.1", 10_002));
        int p1 = org.epollproxy.Ports.free();
        int p2 = org.epollproxy.Ports.free();
        serve(real, List.of(new Forward(SockAddr.parse("127.0.0.1", p1), List.of(shared, other)),
                new Forward(SockAddr.parse("127.0.0.1", p2), List.of(shared, shared))));
        String f1 = "127.0.0.1:" + p1 + " 127.0.0.1:10001 ";
        String f2 = "127.0.0.1:" + p2 + " 127.0.0.1:10001 ";
        assertEquals(List.of(". " + f1 + "drain (was ready)", ". " + f2 + "drain (was ready)", "ok 2 backend(s) changed to drain"),
                ask("ctl 1 * drain 127.0.0.1:10001\n"));
        assertEquals(List.of(". " + f1 + "already drain", ". " + f2 + "already drain", "ok 0 backend(s) changed to drain, 2 already drain"),
                ask("ctl 1 * drain 127.0.0.1:10001\n"));
        assertEquals(List.of(". " + f2 + "weight 5 (was 1)", "ok 1 backend(s) weighted 5"), ask("ctl 1 " + p2 + " weight 127.0.0.1:10001 5\n"),
                "the address twice in one forward is one backend");
    }

    /** A route's backends are backends too: 'backends' lists them (with the route in the forward's column), as drain finds them. */
    @Test
    void backendsListsARoutesBackends() throws Exception {
        Forward listener = new Forward(Forward.Proto.TCP, SockAddr.parse("127.0.0.1", org.epollproxy.Ports.free()),
                List.of(new Backend("127.0.0.1", SockAddr.parse("127.0.0.1", 10_001))), org.epollproxy.forward.AccessRules.ALLOW_ALL, -1, null,
                "test", org.epollproxy.forward.ProxyProtocol.OFF, org.epollproxy.forward.Balancing.DEFAULT, false);
        Forward target = listener.routeTarget("sni:a.example", List.of(new Backend("127.0.0.1", SockAddr.parse("127.0.0.1", 10_002))),
                org.epollproxy.forward.Balancing.DEFAULT, null, "route sni:a.example");
        serve(real, List.of(listener.withRoutes(List.of(new org.epollproxy.forward.Route("sni:a.example", target)),
                org.epollproxy.forward.PrereadLimits.DEFAULT)));
        String bind = "127.0.0.1:" + listener.bind().port();
        assertEquals(List.of(". " + bind + " 127.0.0.1:10001 admin=ready health=up weight=1 open=0",
                ". " + bind + " route=sni:a.example 127.0.0.1:10002 admin=ready health=up weight=1 open=0", "ok 2 backend(s)"),
                ask("ctl 1 * backends\n"));
        assertEquals(List.of(". " + bind + " route=sni:a.example 127.0.0.1:10002 drain (was ready)", "ok 1 backend(s) changed to drain"),
                ask("ctl 1 * drain 127.0.0.1:10002\n"));
    }

    /** A proxy serving {@code forwards}, its control socket at dir/ctl.sock served through {@code k}. */
    private void serve(Kernel k, List<Forward> forwards) {
        proxy = new ProxyServer(real, Settings.DEFAULTS, new PrintStream(errBytes, true, StandardCharsets.UTF_8));
        proxy.start(forwards);
        control = ControlServer.bind(k, dir.resolve("ctl.sock"), false);
        control.start(proxy, why -> { }, proxy.forwardingLoops().get(0).log());
    }

    /** Sends {@code command}, shuts the sending side, and reads until the process closes. */
    private List<String> ask(String command) throws Exception {
        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(dir.resolve("ctl.sock")))) {
            c.write(ByteBuffer.wrap(command.getBytes(StandardCharsets.US_ASCII)));
            c.shutdownOutput();
            ByteBuffer in = ByteBuffer.allocate(64 * 1024);
            while (in.hasRemaining() && c.read(in) >= 0) {
                // until the process closes the connection
            }
            String text = new String(in.array(), 0, in.position(), StandardCharsets.US_ASCII);
            List<String> out = new ArrayList<>();
            for (String l : text.split("\n")) if (!l.isEmpty()) out.add(l);
            return out;
        }
    }
}
