package org.epollproxy.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.epollproxy.Ports;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stub resolver against a real DNS server: dnsmasq answering from a hosts file the test rewrites
 * (dnsmasq re-reads it on SIGHUP), as a name's addresses change under a running proxy.
 */
class DnsmasqTest {
    private static final Path DNSMASQ = Path.of("/usr/sbin/dnsmasq");

    @Test
    void answersFollowTheHostsFileAndAnUnknownNameIsAFailure(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(DNSMASQ), "dnsmasq is not installed (bin/setup installs dnsmasq-base)");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path hosts = dir.resolve("hosts");
        Files.writeString(hosts, "127.0.0.2 app.test\n::1 app.test\n");
        int port = Ports.free();
        Process d = new ProcessBuilder(DNSMASQ.toString(), "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                "--addn-hosts=" + hosts, "--listen-address=127.0.0.1", "--bind-interfaces", "--port=" + port, "--user=" + System.getProperty("user.name"),
                "--pid-file=" + dir.resolve("pid"), "--log-facility=-").redirectErrorStream(true)
                .redirectOutput(dir.resolve("log").toFile()).start();
        try {
            DnsClient c = new DnsClient(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port), 1000);
            List<InetAddress> first = await(c, List.of(InetAddress.getByName("127.0.0.2"), InetAddress.getByName("::1")), d, dir);

            Files.writeString(hosts, "127.0.0.3 app.test\n");
            assertEquals(0, new ProcessBuilder("kill", "-HUP", Long.toString(d.pid())).start().waitFor());
            List<InetAddress> second = await(c, List.of(InetAddress.getByName("127.0.0.3")), d, dir);
            assertTrue(!first.equals(second));

            // dnsmasq without upstream servers refuses a name it does not know: a failure, not an empty set
            DnsClient.DnsException e = assertThrows(DnsClient.DnsException.class, () -> c.lookup("other.test"));
            assertTrue(e.getMessage().contains("REFUSED"), e.getMessage());
        } finally {
            d.destroy();
            d.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Looks up app.test until it answers {@code want} (dnsmasq starts, or re-reads its file), within 30 s. */
    private static List<InetAddress> await(DnsClient c, List<InetAddress> want, Process d, Path dir) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        List<InetAddress> got = null;
        String last = null;
        while (System.nanoTime() < end && d.isAlive()) {
            try {
                got = c.lookup("app.test");
                if (got.equals(want)) return got;
            } catch (DnsClient.DnsException e) {
                last = e.getMessage(); // not listening yet
            }
            Thread.sleep(50);
        }
        throw new AssertionError("wanted " + want + ", got " + got + " (" + last + "); dnsmasq:\n" + Files.readString(dir.resolve("log")));
    }
}
