package org.epollproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.epollproxy.Ports;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The drain against what an operator or a peer does meanwhile, through the real jar: a SIGHUP during the
 * drain is refused in one line and the drain goes on; a peer that reads nothing while its backend floods it
 * does not hold the process past the deadline. Exit status 0 and the drain's last line each time.
 */
@Timeout(120)
class DrainSignalsIT {

    @Test
    void aSighupDuringTheDrainIsRefusedAndTheDrainGoesOn(@TempDir Path dir) throws Exception {
        int port = Ports.free();
        Path conf = dir.resolve("proxy.conf");
        try (TaggedEcho echo = new TaggedEcho("b")) {
            Files.writeString(conf, "127.0.0.1 " + port + " 127.0.0.1 " + echo.port() + "\n");
            try (JarProcess p = new JarProcess("--config", conf.toString(), "--drain-timeout", "30");
                    Socket open = new Socket(InetAddress.getLoopbackAddress(), waitListening(p, port))) {
                assertEquals("b:x", TaggedEcho.ask(open, "x"));
                p.signal("TERM");
                p.awaitStderr("drain: began (SIGTERM); 1 connection(s) open");
                p.signal("HUP");
                p.awaitStderr("reload: draining: the configuration is not reloaded any more; keeping the running configuration");
                assertEquals("b:y", TaggedEcho.ask(open, "y"), "the open connection is still served");
                open.close();
                assertEquals(0, p.exitCode(60));
                assertTrue(p.stderr().contains("drain: done in "), p.stderr());
            }
        }
    }

    @Test
    void aPeerThatReadsNothingIsResetAtTheDeadline() throws Exception {
        try (ServerSocket flood = new ServerSocket(0, 4, InetAddress.getLoopbackAddress())) {
            java.util.concurrent.CountDownLatch accepted = new java.util.concurrent.CountDownLatch(1);
            Thread backend = new Thread(() -> {
                try (Socket s = flood.accept(); OutputStream out = s.getOutputStream()) {
                    accepted.countDown();
                    byte[] chunk = new byte[64 * 1024];
                    for (int i = 0; i < 4096; i++) out.write(chunk); // at most 256 MB; blocks once every buffer is full
                } catch (Exception e) {
                    // reset by the proxy at the deadline: what the test waits for
                }
            });
            backend.setDaemon(true);
            backend.start();
            int port = Ports.free();
            try (JarProcess p = new JarProcess("-L", "127.0.0.1:" + port + ":127.0.0.1:" + flood.getLocalPort(), "--drain-timeout", "1");
                    Socket deaf = new Socket(InetAddress.getLoopbackAddress(), waitListening(p, port))) {
                assertTrue(accepted.await(30, java.util.concurrent.TimeUnit.SECONDS), "the proxy connected to the backend");
                p.signal("TERM");
                assertEquals(0, p.exitCode(60));
                assertTrue(p.stderr().contains("drain: began (SIGTERM); 1 connection(s) open"), p.stderr());
                assertTrue(p.stderr().contains("; 1 connection(s) reset"), p.stderr());
                backend.join(30_000);
                assertTrue(!backend.isAlive(), "the backend's writes ended (reset)");
            }
        }
    }

    private static int waitListening(JarProcess p, int port) throws InterruptedException {
        String line = p.nextLine();
        assertTrue(line.startsWith("listening tcp 127.0.0.1:" + port + " "), line);
        return port;
    }
}
