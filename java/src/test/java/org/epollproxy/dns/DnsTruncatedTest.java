package org.epollproxy.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.epollproxy.Ports;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A name with more addresses than fit in a UDP reply: dnsmasq sets TC and sends about 30 of 300 A
 * records, a different 30 at each query (it rotates its answers). The client asks again over TCP and gets
 * every address (more than a datagram's 256 records), the same set each time, so a re-resolving proxy neither loses most of the name's
 * addresses nor changes its backends at every round.
 */
@Timeout(90)
class DnsTruncatedTest {
    private static final Path DNSMASQ = Path.of("/usr/sbin/dnsmasq");
    private static final int ADDRESSES = 300;

    @Test
    void aReplyCutShortIsAskedForAgainOverTcpAndComesWhole(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(DNSMASQ), "dnsmasq is not installed (bin/setup installs dnsmasq-base)");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path hosts = dir.resolve("hosts");
        StringBuilder lines = new StringBuilder();
        Set<InetAddress> all = new HashSet<>();
        for (int i = 1; i <= ADDRESSES; i++) {
            String a = "10.0." + (i / 200 + 1) + "." + i % 200;
            lines.append(a).append(" big.test\n");
            all.add(InetAddress.getByName(a));
        }
        lines.append("127.0.0.2 small.test\n");
        Files.writeString(hosts, lines);
        int port = Ports.free();
        Process d = new ProcessBuilder(DNSMASQ.toString(), "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                "--addn-hosts=" + hosts, "--listen-address=127.0.0.1", "--bind-interfaces", "--port=" + port, "--user=" + System.getProperty("user.name"),
                "--pid-file=" + dir.resolve("pid"), "--log-facility=-").redirectErrorStream(true)
                .redirectOutput(dir.resolve("log").toFile()).start();
        try {
            DnsClient c = new DnsClient(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port), 2000);
            awaitServing(c, d, dir);
            for (int round = 0; round < 3; round++) {
                List<InetAddress> got = c.query("big.test", DnsClient.TYPE_A);
                assertEquals(ADDRESSES, got.size(), "round " + round + ": every address, not the part a datagram holds: " + got);
                assertEquals(all, new HashSet<>(got), "round " + round);
            }
        } finally {
            d.destroy();
            d.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /**
     * A server that sets TC and then, over TCP, sends its answer a byte at a time: the lookup fails within
     * its one timeout (no read waits long, but the whole exchange has a deadline), so the caller keeps
     * the addresses it had instead of being held for the 64 KiB the length promised.
     */
    @Test
    void aTcpAnswerDrippingInFailsTheLookupWithinItsTimeout() throws Exception {
        java.util.function.Function<byte[], List<byte[]>> truncated = q -> {
            try {
                byte[] r = ScriptedDnsServer.reply(q, "app.test", DnsClient.TYPE_A, "10.0.0.1");
                r[2] |= 0x02; // TC
                return List.of(r);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
        // The TCP port first, then UDP on the same number (a DNS server's one port): retried if UDP has it taken.
        ServerSocket listening = null;
        ScriptedDnsServer udp = null;
        for (int tries = 0; udp == null; tries++) {
            listening = new ServerSocket(0, 4, InetAddress.getLoopbackAddress());
            try {
                udp = new ScriptedDnsServer(listening.getLocalPort(), truncated);
            } catch (java.net.SocketException e) {
                listening.close();
                if (tries == 20) throw e;
            }
        }
        try (ScriptedDnsServer dns = udp; ServerSocket tcp = listening) {
            Thread drip = new Thread(() -> {
                try (Socket s = tcp.accept()) {
                    s.getOutputStream().write(new byte[] {(byte) 0xff, (byte) 0xff}); // 65535 bytes to come...
                    for (int i = 0; i < 600; i++) { // ...one every 100 ms, for at most a minute
                        s.getOutputStream().write(0);
                        Thread.sleep(100);
                    }
                } catch (Exception e) {
                    // the client gave up and closed
                }
            }, "dripping-dns");
            drip.setDaemon(true);
            drip.start();
            DnsClient c = new DnsClient(new InetSocketAddress(InetAddress.getLoopbackAddress(), dns.port()), 1000);
            DnsClient.DnsException e = assertThrows(DnsClient.DnsException.class, () -> c.query("app.test", DnsClient.TYPE_A));
            assertTrue(e.getMessage().contains("cut short (TC)") && e.getMessage().contains("no whole answer came within 1000 ms"), e.getMessage());
            drip.join(30_000); // its next write meets the closed connection: nothing of this test runs on beside the next
        }
    }

    /** Until dnsmasq answers (it has just started), within 30 s. */
    private static void awaitServing(DnsClient c, Process d, Path dir) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String last = null;
        while (System.nanoTime() < end && d.isAlive()) {
            try {
                if (c.query("small.test", DnsClient.TYPE_A).equals(List.of(InetAddress.getByName("127.0.0.2")))) return;
            } catch (DnsClient.DnsException e) {
                last = e.getMessage();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("dnsmasq does not answer (" + last + "):\n" + Files.readString(dir.resolve("log")));
    }
}
