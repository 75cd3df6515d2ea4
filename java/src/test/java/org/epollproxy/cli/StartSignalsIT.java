package org.epollproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.epollproxy.Ports;
import org.epollproxy.dns.TinyDnsServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A SIGHUP while the process is still starting (a warm-up, slow name lookups: seconds before it listens).
 * Under systemd's Type=exec, `systemctl reload` (or a logrotate postrotate's kill -HUP) may come then; the
 * JVM's own answer to SIGHUP is to exit (status 129). The process must start, and read its configuration
 * again once it runs, since the file may have changed after it read it.
 */
@Timeout(120)
class StartSignalsIT {

    @Test
    void aSighupDuringTheStartIsAReloadOnceRunningNotAnExit(@TempDir Path dir) throws Exception {
        int port = Ports.free();
        Path conf = dir.resolve("proxy.conf");
        try (TaggedEcho echo = new TaggedEcho("b"); TinyDnsServer dns = new TinyDnsServer()) {
            // The start waits on its backend's name with the DNS server silent: a window of seconds that costs
            // no CPU (a warm-up would burn both cores for as long).
            dns.failWith(-1);
            Files.writeString(conf, "127.0.0.1 " + port + " app.test " + echo.port() + "\n");
            try (JarProcess p = new JarProcess("--config", conf.toString(), "--resolver", dns.address())) {
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (dns.received.get() == 0) { // the lookup has begun: the process is past its first lines
                    assertTrue(p.process.isAlive(), "the process runs: " + p.stderr());
                    assertTrue(System.nanoTime() < end, "no DNS query within 60 s: " + p.stderr());
                    Thread.sleep(5);
                }
                p.signal("HUP");
                dns.set("app.test", "127.0.0.1");
                dns.failWith(0); // the lookup's next try is answered, and the start goes on
                String line = p.nextLine();
                assertTrue(line.startsWith("listening tcp 127.0.0.1:" + port + " "), line + "\n" + p.stderr());
                p.awaitStderr("0 added, 0 removed, 0 changed, 1 unchanged");
                p.signal("TERM");
                assertEquals(0, p.exitCode(60));
            }
        }
    }
}
