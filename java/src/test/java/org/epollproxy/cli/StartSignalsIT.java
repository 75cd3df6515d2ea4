package org.epollproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.epollproxy.Ports;
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
        try (TaggedEcho echo = new TaggedEcho("b")) {
            Files.writeString(conf, "127.0.0.1 " + port + " 127.0.0.1 " + echo.port() + "\n");
            try (JarProcess p = new JarProcess("--config", conf.toString(), "--warmup", "10s")) {
                awaitWarmUp(p);
                p.signal("HUP");
                String line = p.nextLine();
                assertTrue(line.startsWith("listening tcp 127.0.0.1:" + port + " "), line + "\n" + p.stderr());
                p.awaitStderr("0 added, 0 removed, 0 changed, 1 unchanged");
                p.signal("TERM");
                assertEquals(0, p.exitCode(60));
            }
        }
    }

    /** The warm-up has begun (its private loopback forward is open): the process is past its first lines. */
    private static void awaitWarmUp(JarProcess p) throws Exception {
        Path fds = Path.of("/proc/" + p.process.pid() + "/fd");
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            assertTrue(p.process.isAlive(), "the process runs: " + p.stderr());
            assertTrue(System.nanoTime() < end, "no socket open within 60 s: " + p.stderr());
            boolean socket = false;
            try (var s = Files.list(fds)) {
                for (Path f : (Iterable<Path>) s::iterator) {
                    try {
                        if (Files.readSymbolicLink(f).toString().startsWith("socket:")) socket = true;
                    } catch (java.io.IOException gone) {
                        // closed meanwhile
                    }
                }
            }
            if (socket) return;
            Thread.sleep(5);
        }
    }
}
