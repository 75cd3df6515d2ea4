package org.epollproxy.cli;

import static org.epollproxy.cli.CommandLineIT.assertNothingListens;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.epollproxy.Ports;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * --config and SIGHUP through the real jar: forwards come and go and change, open connections are never
 * cut, a broken file or a busy port changes nothing, logfile and pidlogfile are written.
 */
class ConfigReloadIT {

    static Socket connect(int port) throws Exception {
        Socket s = new Socket("127.0.0.1", port);
        s.setSoTimeout(10_000);
        return s;
    }

    /** Waits until stderr contains {@code text} (reloads run on their own thread). */
    static void awaitErr(JarProcess p, String text) throws InterruptedException {
        p.awaitStderr(text);
    }

    @Test
    void aReloadAddsRemovesAndChangesForwardsWithoutCuttingOpenConnections(@TempDir Path dir) throws Exception {
        int pa = Ports.free();
        int pb = Ports.free();
        int pc = Ports.free();
        Path conf = dir.resolve("proxy.conf");
        Path log = dir.resolve("rinetd.log");
        Path pid = dir.resolve("proxy.pid");
        try (TaggedEcho one = new TaggedEcho("one"); TaggedEcho two = new TaggedEcho("two")) {
            Files.writeString(conf, String.join("\n",
                    "# two forwards to backend one",
                    "127.0.0.1 " + pa + " 127.0.0.1 " + one.port(),
                    "127.0.0.1 " + pb + " 127.0.0.1 " + one.port() + "   # goes away on reload",
                    "logfile " + log,
                    "pidlogfile " + pid, ""));
            try (JarProcess p = new JarProcess("--config", conf.toString())) {
                assertEquals("listening tcp 127.0.0.1:" + pa + " -> 127.0.0.1:" + one.port(), p.nextLine());
                assertEquals("listening tcp 127.0.0.1:" + pb + " -> 127.0.0.1:" + one.port(), p.nextLine());
                assertEquals(p.process.pid() + "\n", Files.readString(pid));

                Socket before = connect(pa);
                assertEquals("one:hello", TaggedEcho.ask(before, "hello"));

                // a changes backend, b goes away, c appears
                Files.writeString(conf, String.join("\n",
                        "127.0.0.1 " + pa + " 127.0.0.1 " + two.port(),
                        "127.0.0.1 " + pc + " 127.0.0.1 " + one.port(),
                        "logfile " + log,
                        "pidlogfile " + pid, ""));
                p.signal("HUP");
                awaitErr(p, "1 added, 1 removed, 1 changed, 0 unchanged");

                assertEquals("one:still", TaggedEcho.ask(before, "still"), "the open connection kept its backend");
                try (Socket after = connect(pa)) {
                    assertEquals("two:new", TaggedEcho.ask(after, "new"), "new connections go to the new backend");
                }
                try (Socket c = connect(pc)) {
                    assertEquals("one:c", TaggedEcho.ask(c, "c"));
                }
                assertNothingListens(pb);

                // A broken file: reported, and the running configuration is kept.
                Files.writeString(conf, "127.0.0.1 " + pa + " 127.0.0.1\n");
                p.signal("HUP");
                awaitErr(p, conf + ":1: expected \"bindaddress bindport connectaddress connectport");
                awaitErr(p, "keeping the running configuration");
                try (Socket c = connect(pc)) {
                    assertEquals("one:ok", TaggedEcho.ask(c, "ok"));
                }
                assertEquals("one:alive", TaggedEcho.ask(before, "alive"));

                // Atomic: one new forward on a busy port, another on a free one: neither is applied.
                int pe = Ports.free();
                try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                    Files.writeString(conf, String.join("\n",
                            "127.0.0.1 " + pa + " 127.0.0.1 " + two.port(),
                            "127.0.0.1 " + pc + " 127.0.0.1 " + one.port(),
                            "127.0.0.1 " + pe + " 127.0.0.1 " + one.port(),
                            "127.0.0.1 " + busy.getLocalPort() + " 127.0.0.1 " + one.port(), ""));
                    p.signal("HUP");
                    awaitErr(p, "bind 127.0.0.1:" + busy.getLocalPort() + ": EADDRINUSE (Address already in use); keeping");
                }
                assertNothingListens(pe);
                try (Socket c = connect(pc)) {
                    assertEquals("one:same", TaggedEcho.ask(c, "same"));
                }
                before.close();

                p.signal("TERM");
                assertEquals(0, p.exitCode(10));
                String lines = Files.readString(log);
                assertTrue(lines.contains("\t127.0.0.1\t" + pa + "\t127.0.0.1\t" + one.port() + "\t"), lines);
                assertTrue(lines.contains("done-remote-closed"), lines);
                assertTrue(!Files.exists(pid), "the pid file is removed at exit");
            }
        }
    }

    /** A reload announces what it added or changed, not the forwards that stay as they were. */
    @Test
    void aReloadLogsListeningOnlyForAddedAndChangedForwards(@TempDir Path dir) throws Exception {
        int pa = Ports.free();
        int pb = Ports.free();
        int pc = Ports.free();
        Path conf = dir.resolve("proxy.conf");
        try (TaggedEcho one = new TaggedEcho("one"); TaggedEcho two = new TaggedEcho("two")) {
            Files.writeString(conf, "127.0.0.1 " + pa + " 127.0.0.1 " + one.port() + "\n127.0.0.1 " + pb + " 127.0.0.1 " + one.port() + "\n");
            try (JarProcess p = new JarProcess("--config", conf.toString())) {
                p.nextLine();
                p.nextLine();
                Files.writeString(conf, String.join("\n",
                        "127.0.0.1 " + pa + " 127.0.0.1 " + one.port(), // unchanged
                        "127.0.0.1 " + pb + " 127.0.0.1 " + two.port(), // changed
                        "127.0.0.1 " + pc + " 127.0.0.1 " + one.port(), // added
                        ""));
                p.signal("HUP");
                awaitErr(p, "1 added, 0 removed, 1 changed, 1 unchanged");
                awaitErr(p, "reload: listening tcp 127.0.0.1:" + pb + " -> 127.0.0.1:" + two.port());
                awaitErr(p, "reload: listening tcp 127.0.0.1:" + pc + " -> 127.0.0.1:" + one.port());
                p.signal("TERM");
                assertEquals(0, p.exitCode(10));
                String err = p.stderr();
                assertTrue(!err.contains("reload: listening tcp 127.0.0.1:" + pa + " "), "the unchanged forward is not announced again:\n" + err);
                for (String line : err.split("\n")) {
                    if (line.contains(" reload: ") || line.contains(" drain: ")) {
                        assertTrue(line.matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z .*"), "milliseconds always: " + line);
                    }
                }
            }
        }
    }

    @Test
    void aBadConfigLineAtStartExitsTwoWithFileAndLine(@TempDir Path dir) throws Exception {
        int port = Ports.free();
        Path conf = dir.resolve("bad.conf");
        Files.writeString(conf, "# ok\n127.0.0.1 " + port + " 127.0.0.1 80\nallow not-an-address\n");
        try (JarProcess p = new JarProcess("--config", conf.toString())) {
            assertEquals(2, p.exitCode(20));
            assertTrue(p.stderr().contains(conf + ":3: bad character 'n' in pattern"), p.stderr());
        }
        assertNothingListens(port);
    }

    @Test
    void udpAndTcpFromTheCommandLineAndAConfigCombine(@TempDir Path dir) throws Exception {
        int pt = Ports.free();
        Path conf = dir.resolve("c.conf");
        try (TaggedEcho one = new TaggedEcho("one")) {
            Files.writeString(conf, "127.0.0.1 " + pt + " 127.0.0.1 " + one.port() + "\n");
            try (java.net.DatagramSocket backend = new java.net.DatagramSocket(0, InetAddress.getLoopbackAddress());
                    JarProcess p = new JarProcess("--config", conf.toString(), "-U", "0:127.0.0.1:" + backend.getLocalPort())) {
                String l1 = p.nextLine();
                String l2 = p.nextLine();
                assertTrue(l1.startsWith("listening udp 127.0.0.1:"), l1);
                assertEquals("listening tcp 127.0.0.1:" + pt + " -> 127.0.0.1:" + one.port(), l2);
                try (Socket c = connect(pt)) {
                    assertEquals("one:x", TaggedEcho.ask(c, "x"));
                }
                int udpPort = Integer.parseInt(l1.replaceAll("listening udp 127\\.0\\.0\\.1:(\\d+) .*", "$1"));
                try (java.net.DatagramSocket c = new java.net.DatagramSocket(0, InetAddress.getLoopbackAddress())) {
                    byte[] msg = "ping".getBytes();
                    c.send(new java.net.DatagramPacket(msg, msg.length, InetAddress.getLoopbackAddress(), udpPort));
                    backend.setSoTimeout(5000);
                    java.net.DatagramPacket got = new java.net.DatagramPacket(new byte[100], 100);
                    backend.receive(got);
                    assertEquals("ping", new String(got.getData(), 0, got.getLength()));
                }
            }
        }
    }
}
