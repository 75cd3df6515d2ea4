package org.epollproxy.cli;

import static org.epollproxy.cli.ConfigReloadIT.awaitErr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.epollproxy.Ports;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The proof of issue 13: a client opening, using and closing connections in a tight loop plus 20 long
 * transfers checked with SHA-256, through a --takeover upgrade and through a restart under socket
 * activation (started as systemd does, by activate.py): no new connection refused or reset, every long
 * transfer on the old process intact, the old process exits 0. And the refusals: forwards that differ.
 */
class ZeroDowntimeIT {
    static final int LONG = 20;
    static final int SIZE = 1 << 20;

    /** 20 transfers held halfway, so they are on the old process when it begins to drain. */
    static List<Traffic.LongTransfer> longTransfers(int port, CountDownLatch release) throws InterruptedException {
        List<Traffic.LongTransfer> all = new ArrayList<>();
        for (int i = 0; i < LONG; i++) all.add(new Traffic.LongTransfer(port, SIZE, i, release));
        for (Traffic.LongTransfer t : all) assertTrue(t.halfway.await(30, TimeUnit.SECONDS));
        return all;
    }

    static void assertIntact(List<Traffic.LongTransfer> all) throws InterruptedException {
        for (int i = 0; i < all.size(); i++) {
            assertTrue(all.get(i).finished.await(30, TimeUnit.SECONDS), "transfer " + i + " finished");
            assertEquals("ok", all.get(i).result, "transfer " + i);
        }
    }

    @Test
    void aTakeoverUpgradeRefusesNobodyAndTheOldProcessFinishesItsTransfers(@TempDir Path dir) throws Exception {
        Path ctl = dir.resolve("ctl.sock");
        int port = Ports.free();
        try (Traffic.Echo echo = new Traffic.Echo()) {
            String fwd = port + ":127.0.0.1:" + echo.port();
            try (JarProcess old = new JarProcess("-L", fwd, "--control", ctl.toString(), "--drain-timeout", "20", "--quiet")) {
                old.nextLine();
                assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(ctl)));
                Traffic.TightLoop loop = new Traffic.TightLoop(port);
                loop.awaitMore(50);
                CountDownLatch release = new CountDownLatch(1);
                List<Traffic.LongTransfer> transfers = longTransfers(port, release);
                long okBefore = loop.ok.get();
                try (JarProcess neu = new JarProcess("-L", fwd, "--takeover", ctl.toString(), "--control", ctl.toString(),
                        "--drain-timeout", "20", "--quiet")) {
                    assertEquals("listening tcp 127.0.0.1:" + port + " -> 127.0.0.1:" + echo.port(), neu.nextLine());
                    awaitErr(old, "drain: began (takeover)");
                    release.countDown();
                    assertIntact(transfers);
                    assertEquals(0, old.exitCode(30), old.stderr());
                    assertTrue(old.stderr().contains("; 0 connection(s) reset"), old.stderr());
                    loop.awaitMore(100); // served by the new process alone now
                    loop.stop();
                    System.out.println("takeover: " + loop + "; " + (loop.ok.get() - okBefore) + " round trips during and after the upgrade");
                    assertEquals(0, loop.refused.get() + loop.failed.get(), loop.toString());
                    assertTrue(Files.exists(ctl), "the new process listens on the control path");
                    neu.signal("TERM");
                    assertEquals(0, neu.exitCode(15));
                    assertTrue(!Files.exists(ctl), "removed at exit");
                }
            }
        }
    }

    /**
     * Issue 22, item 4: a takeover keeps a {@code -L /path:...} UNIX listener. Clients connect through the
     * path in a loop before, during and after the upgrade; none gets ENOENT (or any failure), the path is
     * still there after the old process exits, and the new process removes it at its own exit.
     */
    @Test
    void aTakeoverKeepsTheUnixListenersPath(@TempDir Path dir) throws Exception {
        Path ctl = dir.resolve("ctl.sock");
        Path front = dir.resolve("front.sock");
        try (Traffic.Echo echo = new Traffic.Echo()) {
            String fwd = front + ":127.0.0.1:" + echo.port();
            try (JarProcess old = new JarProcess("-L", fwd, "--control", ctl.toString(), "--drain-timeout", "20", "--quiet")) {
                assertEquals("listening unix " + front + " -> 127.0.0.1:" + echo.port(), old.nextLine());
                java.util.concurrent.atomic.AtomicLong ok = new java.util.concurrent.atomic.AtomicLong();
                java.util.concurrent.atomic.AtomicReference<String> failed = new java.util.concurrent.atomic.AtomicReference<>();
                java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
                Thread client = new Thread(() -> {
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120); // bounded whatever happens
                    for (long i = 0; !stop.get() && System.nanoTime() < deadline; i++) {
                        try (java.nio.channels.SocketChannel c = java.nio.channels.SocketChannel.open(java.net.UnixDomainSocketAddress.of(front))) {
                            byte[] msg = ("n" + i).getBytes(StandardCharsets.US_ASCII);
                            c.write(java.nio.ByteBuffer.wrap(msg));
                            c.shutdownOutput();
                            java.nio.ByteBuffer got = java.nio.ByteBuffer.allocate(64);
                            while (c.read(got) >= 0) { }
                            if (got.position() != msg.length) throw new java.io.IOException("echo of " + got.position() + " bytes, not " + msg.length);
                            ok.incrementAndGet();
                        } catch (java.io.IOException e) {
                            failed.compareAndSet(null, "round trip " + i + ": " + e);
                        }
                    }
                }, "unix-client");
                client.start();
                awaitCount(ok, 50);
                try (JarProcess neu = new JarProcess("-L", fwd, "--takeover", ctl.toString(), "--control", ctl.toString(),
                        "--drain-timeout", "20", "--quiet")) {
                    assertEquals("listening unix " + front + " -> 127.0.0.1:" + echo.port(), neu.nextLine());
                    awaitErr(old, "drain: began (takeover)");
                    assertEquals(0, old.exitCode(30), old.stderr());
                    long afterOld = ok.get();
                    awaitCount(ok, afterOld + 100); // served by the new process alone, through the path
                    stop.set(true);
                    client.join(30_000);
                    assertEquals(null, failed.get(), ok.get() + " round trips went through");
                    assertTrue(Files.exists(front), "the path is still there after the old process left");
                    neu.signal("TERM");
                    assertEquals(0, neu.exitCode(15), neu.stderr());
                    assertTrue(!Files.exists(front), "the new process removes it at exit");
                    assertTrue(!Files.exists(ctl), "and its control socket");
                } finally {
                    stop.set(true);
                }
            }
        }
    }

    private static void awaitCount(java.util.concurrent.atomic.AtomicLong n, long atLeast) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (n.get() < atLeast) {
            if (System.nanoTime() > end) throw new AssertionError("only " + n.get() + " of " + atLeast + " round trips within 60 s");
            Thread.sleep(10);
        }
    }

    @Test
    void forwardsThatDifferAreRefusedAndTheRunningProcessServesOn(@TempDir Path dir) throws Exception {
        Path ctl = dir.resolve("ctl.sock");
        int port = Ports.free();
        int other = Ports.free();
        try (TaggedEcho echo = new TaggedEcho("e");
                JarProcess old = new JarProcess("-L", port + ":127.0.0.1:" + echo.port(), "--control", ctl.toString())) {
            old.nextLine();
            // Two at once (each is a JVM start): forwards that differ and a second --control; the takeover
            // with threads that differ after the first, since a takeover that arrives while another is
            // being checked is refused as "already in progress" (seen when both JVMs started together).
            try (JarProcess moreForwards = new JarProcess("-L", port + ":127.0.0.1:" + echo.port(), "-L", other + ":127.0.0.1:" + echo.port(),
                            "--takeover", ctl.toString());
                    JarProcess second = new JarProcess("-L", other + ":127.0.0.1:" + echo.port(), "--control", ctl.toString())) {
                assertEquals(1, moreForwards.exitCode(20));
                assertTrue(moreForwards.stderr().contains("--takeover " + ctl + ": the running process refused: the forwards differ: "
                        + "only in the new process: tcp 127.0.0.1:" + other + "\n"), moreForwards.stderr());
                // The second --control's liveness probe is a control connection too: wait for it to end, or the
                // takeover below can meet it and be refused as "already in progress" (seen on a loaded machine).
                assertEquals(1, second.exitCode(20), "a second --control on a live path");
                assertTrue(second.stderr().contains("a running process listens there; start with --takeover"), second.stderr());
                try (JarProcess moreThreads = new JarProcess("-L", port + ":127.0.0.1:" + echo.port(), "--threads", "2", "--takeover", ctl.toString())) {
                    assertEquals(1, moreThreads.exitCode(20));
                    assertTrue(moreThreads.stderr().contains("--threads differ: this process runs 1, the new one asks for 2"), moreThreads.stderr());
                }
            }
            awaitErr(old, "control: takeover refused: the forwards differ: only in the new process: tcp 127.0.0.1:" + other + "; serving on");
            try (Socket c = ConfigReloadIT.connect(port)) {
                assertEquals("e:still", TaggedEcho.ask(c, "still"), "the running process serves on");
            }
            assertTrue(!old.stderr().contains("drain"), old.stderr());
        }
    }

    // ---- socket activation, started the way systemd starts it ----

    /** activate.py: binds {@code sockets}, runs the jar with them as fds 3.., restarts it on request. */
    static final class Activator implements AutoCloseable {
        final Process process;
        final BlockingQueue<String> events = new LinkedBlockingQueue<>();
        final Path logs;
        final OutputStream commands;

        Activator(Path logs, String sockets, String... args) throws Exception {
            this.logs = logs;
            Path script = logs.resolve("activate.py");
            try (var in = ZeroDowntimeIT.class.getResourceAsStream("activate.py")) {
                Files.copy(in, script);
            }
            List<String> cmd = new ArrayList<>(List.of("python3", script.toString(), logs.toString(), sockets, "--"));
            cmd.addAll(JarProcess.javaCommand(args)); // the archive, C1: each start about 0.4 CPU-s instead of 0.9
            cmd.addAll(List.of("-jar", JarProcess.jar().toString()));
            cmd.addAll(List.of(args));
            process = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            commands = process.getOutputStream();
            Traffic.daemon(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String l; (l = r.readLine()) != null; ) events.add(l);
                } catch (java.io.IOException ignored) {
                    // ended
                }
            });
        }

        String next(String prefix) throws InterruptedException {
            String l = events.poll(JarProcess.START_S, TimeUnit.SECONDS);
            if (l == null || !l.startsWith(prefix)) throw new AssertionError("expected '" + prefix + "...' from activate.py, got " + l);
            return l;
        }

        void send(String command) throws Exception {
            commands.write((command + "\n").getBytes(StandardCharsets.US_ASCII));
            commands.flush();
        }

        String file(int gen, String ext) throws Exception {
            Path p = logs.resolve(gen + "." + ext);
            return Files.exists(p) ? Files.readString(p) : "";
        }

        void await(int gen, String ext, String text) throws Exception {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(JarProcess.START_S);
            while (!file(gen, ext).contains(text)) {
                if (System.nanoTime() > end) throw new AssertionError("no '" + text + "' in " + gen + "." + ext + ":\n" + file(gen, ext) + file(gen, "err"));
                Thread.sleep(20);
            }
        }

        @Override
        public void close() {
            // A failed test may leave activate.py in any state: stop its children (the proxies) first, by
            // PID, so that none outlives the test when the script itself is killed before it can stop them.
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroy();
        }
    }

    @Test
    void aRestartUnderSocketActivationRefusesNobodyAndTheOldProcessFinishesItsTransfers(@TempDir Path dir) throws Exception {
        int port = Ports.free();
        try (Traffic.Echo echo = new Traffic.Echo();
                Activator a = new Activator(dir, "tcp:127.0.0.1:" + port, "-L", port + ":127.0.0.1:" + echo.port(),
                        "--drain-timeout", "20", "--quiet")) {
            a.next("sockets " + port);
            a.next("started 1");
            a.await(1, "out", "listening tcp 127.0.0.1:" + port);
            Traffic.TightLoop loop = new Traffic.TightLoop(port);
            loop.awaitMore(50);
            CountDownLatch release = new CountDownLatch(1);
            List<Traffic.LongTransfer> transfers = longTransfers(port, release);
            long okBefore = loop.ok.get();
            a.send("restart"); // SIGTERM, wait for the exit, start generation 2: as systemctl restart
            a.await(1, "err", "drain: began (SIGTERM)");
            release.countDown();
            assertIntact(transfers);
            assertEquals("exited 1 0", a.next("exited 1"), a.file(1, "err"));
            assertTrue(a.file(1, "err").contains("; 0 connection(s) reset"), a.file(1, "err"));
            a.next("started 2");
            a.await(2, "out", "listening tcp 127.0.0.1:" + port);
            loop.awaitMore(100);
            loop.stop();
            System.out.println("socket activation restart: " + loop + "; " + (loop.ok.get() - okBefore) + " round trips during and after it");
            assertEquals(0, loop.refused.get() + loop.failed.get(), loop.toString());
            a.send("stop");
            assertEquals("exited 2 0", a.next("exited 2"));
        }
    }

    @Test
    void aSocketWithoutAForwardOrAForwardWithoutASocketIsRefusedWithExitTwo(@TempDir Path dir) throws Exception {
        int port = Ports.free();
        int other = Ports.free();
        Path d1 = Files.createDirectories(dir.resolve("1"));
        Path d2 = Files.createDirectories(dir.resolve("2"));
        int third = Ports.free();
        try (Activator a = new Activator(d1, "tcp:127.0.0.1:" + port, "-L", port + ":127.0.0.1:9", "-L", other + ":127.0.0.1:9");
                Activator b = new Activator(d2, "tcp:127.0.0.1:" + third + ",udp:127.0.0.1:" + third, "-L", third + ":127.0.0.1:9")) {
            for (Activator x : List.of(a, b)) {
                x.next("sockets");
                x.next("started 1");
                x.send("wait");
                assertEquals("exited 1 2", x.next("exited 1"), x.file(1, "err"));
            }
            assertTrue(a.file(1, "err").contains("socket activation: no socket from systemd (LISTEN_FDS=1) for tcp 127.0.0.1:" + other),
                    a.file(1, "err"));
            assertTrue(b.file(1, "err").contains("socket activation: fd 4 (s1) udp 127.0.0.1:" + third + " matches no forward"),
                    b.file(1, "err"));
        }
    }
}
