package org.epollproxy.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
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
 * The door a takeover comes through, over real UNIX sockets in this JVM: only our uid gets in (a kernel
 * whose SO_PEERCRED names another uid, and a real peer run as nobody, are refused, logged, and take nothing
 * over; the new process's twin check refuses a control socket run by another uid); silent peers cannot
 * keep a real takeover out; what a peer sends reaches the log escaped and bounded; the control path is
 * checked as a -L path is.
 */
@Timeout(90)
class ControlServerTest {
    private static final int NOBODY = 65534;

    @TempDir
    Path dir;

    private final Kernel real = Shim.load();
    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    private final AtomicReference<String> takenOver = new AtomicReference<>();
    private final List<AutoCloseable> open = new ArrayList<>();
    private ProxyServer proxy;
    private List<Forward> forwards;

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : open) c.close();
        if (proxy != null) proxy.stop(10, TimeUnit.SECONDS);
    }

    /** A proxy with one forward on 127.0.0.1:0 and its control socket at dir/ctl.sock, bound through {@code k}. */
    private ControlServer serve(Kernel k) {
        proxy = new ProxyServer(real, Settings.DEFAULTS, new PrintStream(errBytes, true, StandardCharsets.UTF_8));
        forwards = proxy.start(List.of(new Forward(SockAddr.parse("127.0.0.1", 0), List.of(new Backend("127.0.0.1", SockAddr.parse("127.0.0.1", 9))))));
        ControlServer c = ControlServer.bind(k, dir.resolve("ctl.sock"), false);
        c.start(proxy, takenOver::set, proxy.forwardingLoops().get(0).log());
        return c;
    }

    private String log() {
        synchronized (errBytes) {
            return errBytes.toString(StandardCharsets.UTF_8);
        }
    }

    private void awaitLog(String text) throws InterruptedException {
        await(() -> log().contains(text), "'" + text + "' in the log:\n" + log());
    }

    private static void await(BooleanSupplier cond, String what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > end) throw new AssertionError("not within 30 s: " + what);
            Thread.sleep(10);
        }
    }

    private Takeover.TakeoverException refusedTakeover(Kernel k) {
        return assertThrows(Takeover.TakeoverException.class,
                () -> Takeover.request(k, dir.resolve("ctl.sock").toString(), 1, forwards, 20_000));
    }

    @Test
    void aPeerWhoseSoPeerCredNamesAnotherUidIsRefusedLoggedAndTakesNothingOver() throws Exception {
        Kernel otherUid = InterposedKernel.over(real, (name, args, call) -> name.equals("peer_uid") ? NOBODY : call.invoke());
        serve(otherUid);
        Takeover.TakeoverException e = refusedTakeover(real);
        awaitLog("control " + dir.resolve("ctl.sock") + ": refused a connection from uid " + NOBODY + " (ours is " + real.getuid() + ")");
        assertTrue(e.getMessage().contains("hung up") || e.getMessage().contains("connect") || e.getMessage().contains("Broken pipe")
                || e.getMessage().contains("reset"), e.getMessage());
        assertNull(takenOver.get(), "no takeover");
        assertFalse(proxy.draining());
    }

    @Test
    void theNewProcessRefusesAControlSocketRunByAnotherUid() throws Exception {
        serve(real);
        Kernel otherUid = InterposedKernel.over(real, (name, args, call) -> name.equals("peer_uid") ? NOBODY : call.invoke());
        Takeover.TakeoverException e = refusedTakeover(otherUid);
        assertEquals("--takeover " + dir.resolve("ctl.sock") + ": the process there runs as uid " + NOBODY + ", we as " + real.getuid(), e.getMessage());
        assertNull(takenOver.get());
        assertFalse(proxy.draining());
    }

    /** A peer run as nobody through setpriv (python3) that speaks the whole protocol, "ok" included. */
    @Test
    void aRealPeerRunAsNobodyIsRefusedLoggedAndGetsNoSocket() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(real.getuid() == 0, "setpriv --reuid needs root (the test machines run as root)");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x")); // nobody may pass, not list
        serve(real);
        Path ctl = dir.resolve("ctl.sock");
        Files.setPosixFilePermissions(ctl, PosixFilePermissions.fromString("rw-rw-rw-")); // so that only the uid check stands
        String script = String.join("\n",
                "import socket, sys",
                "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
                "s.connect(sys.argv[1])",
                "try:",
                "    s.sendall(b'takeover 1 threads=1\\nlisten ' + sys.argv[2].encode() + b'\\nend\\n')",
                "    got = b''",
                "    while True:",
                "        msg, fds, flags, addr = socket.recv_fds(s, 4096, 4)",
                "        if not msg: break",
                "        got += msg",
                "        if fds: print('received fd', fds, flush=True)",
                "        if b'end\\n' in got: s.sendall(b'ok\\n')",
                "    print('got', got, flush=True)",
                "except OSError as e:",
                "    print('error', e, flush=True)",
                "");
        Process p = new ProcessBuilder("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", python3(), "-c", script,
                ctl.toString(), forwards.get(0).key()).redirectErrorStream(true).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the peer ends");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String refusal = "control " + ctl + ": refused a connection from uid " + NOBODY + " (ours is 0)";
        await(() -> log().contains(refusal), "'" + refusal + "' in the log:\n" + log() + "\nthe peer said: " + out);
        assertFalse(out.contains("received fd"), out);
        assertFalse(out.contains("fd 0"), out);
        assertTrue(out.startsWith("got b''") || out.startsWith("error"), out);
        assertNull(takenOver.get(), "no takeover");
        assertFalse(proxy.draining());
    }

    /** The system's python3: a python3 found first on root's PATH may live where nobody cannot read (pyenv). */
    static String python3() {
        return Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
    }

    @Test
    void silentPeersDoNotKeepARealTakeoverOut() throws Exception {
        serve(real);
        for (int i = 0; i < ControlServer.MAX_PEERS + 2; i++) {
            SocketChannel silent = SocketChannel.open(UnixDomainSocketAddress.of(dir.resolve("ctl.sock")));
            open.add(silent);
        }
        try (Takeover t = Takeover.request(real, dir.resolve("ctl.sock").toString(), 1, forwards, 20_000)) {
            assertEquals(1, t.sockets().size());
            t.confirm();
            for (int[] fds : t.sockets().values()) for (int fd : fds) real.close(fd);
        }
        await(() -> "takeover".equals(takenOver.get()), "the takeover went through");
        awaitLog("control: the listening sockets were taken over by pid ");
        // The silent peers that made room were connections, not takeovers: no "takeover ended ...; serving on".
        awaitLog("control " + dir.resolve("ctl.sock") + ": a connection ended: the peer had sent nothing for ");
        assertFalse(log().contains("control: takeover ended"), log());
    }

    /** With several loops a UNIX listener is one socket, on loop 0: the takeover hands over that one and no more. */
    @Test
    void withTwoLoopsATakeoverHandsOverTheUnixListenersOneSocket() throws Exception {
        proxy = new ProxyServer(real, Settings.builder().threads(2).build(), new PrintStream(errBytes, true, StandardCharsets.UTF_8));
        Path front = dir.resolve("front.sock");
        forwards = proxy.start(List.of(new Forward(SockAddr.unix(front.toString()), List.of(new Backend("127.0.0.1", SockAddr.parse("127.0.0.1", 9)))),
                new Forward(SockAddr.parse("127.0.0.1", 0), List.of(new Backend("127.0.0.1", SockAddr.parse("127.0.0.1", 9))))));
        ControlServer c = ControlServer.bind(real, dir.resolve("ctl.sock"), false);
        c.start(proxy, takenOver::set, proxy.forwardingLoops().get(0).log());
        try (Takeover t = Takeover.request(real, dir.resolve("ctl.sock").toString(), 2, forwards, 20_000)) {
            int[] unix = t.sockets().get("tcp " + front);
            int[] tcp = t.sockets().get(forwards.get(1).key());
            assertTrue(unix[0] >= 0 && unix[1] == -1, java.util.Arrays.toString(unix));
            assertTrue(tcp[0] >= 0 && tcp[1] >= 0, java.util.Arrays.toString(tcp));
            t.confirm();
            for (int[] fds : t.sockets().values()) for (int fd : fds) if (fd >= 0) real.close(fd);
        }
        await(() -> "takeover".equals(takenOver.get()), "the takeover went through");
        proxy.drain(1000);
        assertTrue(proxy.awaitStopped(30, TimeUnit.SECONDS));
        assertTrue(Files.exists(front), "handed over: the old process leaves the file");
        Files.delete(front);
    }

    @Test
    void whatAPeerSendsIsLoggedEscapedAndBounded() throws Exception {
        serve(real);
        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(dir.resolve("ctl.sock")))) {
            byte[] junk = ("\u001b[2J\u0000evil" + "x".repeat(300) + "\n").getBytes(StandardCharsets.ISO_8859_1);
            junk[junk.length - 3] = (byte) 0xff;
            c.write(ByteBuffer.wrap(junk));
            ByteBuffer reply = ByteBuffer.allocate(1024);
            while (c.read(reply) > 0) { } // the refusal, then EOF
            String answer = new String(reply.array(), 0, reply.position(), StandardCharsets.ISO_8859_1);
            assertTrue(answer.startsWith("error expected 'takeover 1 threads=N' or a ctl command, got '\\x1b[2J\\x00evilxxx"), answer);
        }
        awaitLog("a connection refused: expected 'takeover 1 threads=N' or a ctl command, got '\\x1b[2J\\x00evilxxxx");
        String line = log().lines().filter(l -> l.contains("a connection refused")).findFirst().orElseThrow();
        assertTrue(line.chars().allMatch(ch -> ch >= 0x20 && ch < 0x7f), "printable ASCII only: " + line);
        assertTrue(line.contains("xxx...'"), "truncated: " + line);
        assertTrue(line.length() < 250, "bounded: " + line.length() + " chars");
        assertNull(takenOver.get());
    }

    @Test
    void theControlPathIsCheckedAsAListenerPathIs() throws Exception {
        Path file = dir.resolve("file");
        Files.writeString(file, "keep me");
        Path empty = Files.createDirectory(dir.resolve("empty"));
        for (Path p : List.of(file, empty)) {
            RuntimeException e = assertThrows(RuntimeException.class, () -> ControlServer.bind(real, p, false));
            assertTrue(e.getMessage().contains("--control " + p + ": the path exists and is not a socket"), e.getMessage());
            RuntimeException replacing = assertThrows(RuntimeException.class, () -> ControlServer.bind(real, p, true));
            assertTrue(replacing.getMessage().contains("is not a socket"), replacing.getMessage());
        }
        assertEquals("keep me", Files.readString(file));
        assertTrue(Files.isDirectory(empty));
        try (var left = Files.list(dir)) {
            assertEquals(2, left.count(), "no private directory left behind");
        }
    }

    @Test
    void atExitTheControlFileIsRemovedOnlyWhileItIsStillOurs() throws Exception {
        Path ctl = dir.resolve("ctl.sock");
        ControlServer c = ControlServer.bind(real, ctl, false);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(ctl)));
        Files.delete(ctl);
        Files.writeString(ctl, "someone else's file");
        c.removeFile();
        assertEquals("someone else's file", Files.readString(ctl));
        c.close();
        assertEquals("someone else's file", Files.readString(ctl));
        Files.delete(ctl);
        ControlServer ours = ControlServer.bind(real, ctl, false);
        ours.close();
        assertFalse(Files.exists(ctl), "our own file goes");
    }
}
