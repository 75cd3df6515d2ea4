package org.epollproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A socket another local user made at the --control path (a shared directory, before the proxy started)
 * does not get the operator's command, and cannot make ctl report a drain that never happened: ctl
 * talks to a process of its own user only (SO_PEERCRED), as the process accepts only peers of its own.
 * The impostor is a real python3 server run as nobody (setpriv: the test machines run as root).
 */
@Timeout(60)
class CtlImpostorTest {

    @Test
    void aSocketServedByAnotherUserIsNotSentTheCommand(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "setpriv --reuid needs root (the test machines run as root)");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
        Path shared = Files.createDirectory(dir.resolve("shared"));
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx")); // as /tmp, without the sticky bit's part here
        Path sock = shared.resolve("ep.sock");
        Path heard = shared.resolve("heard");
        String script = String.join("\n",
                "import os, socket, sys",
                "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
                "s.bind(sys.argv[1])",
                "s.listen(1)",
                "os.chmod(sys.argv[1], 0o666)  # the test waits for this mode: listening by then",
                "s.settimeout(30)",
                "c, _ = s.accept()",
                "c.settimeout(5)",
                "try:",
                "    got = c.recv(512)",
                "except OSError:",
                "    got = b''",
                "open(sys.argv[2], 'wb').write(got)",
                "try:",
                "    c.sendall(b'ok 1 backend(s) changed to drain\\n')",
                "except OSError:",
                "    pass",
                "c.close()",
                "");
        String python = Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
        Process impostor = new ProcessBuilder("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", python, "-c", script,
                sock.toString(), heard.toString()).redirectErrorStream(true).start();
        try {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.exists(sock) || !PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)).equals("rw-rw-rw-")) {
                if (System.nanoTime() > end || !impostor.isAlive()) {
                    impostor.destroyForcibly();
                    throw new AssertionError("the impostor does not listen: " + new String(impostor.getInputStream().readAllBytes()));
                }
                Thread.sleep(20);
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int status = Main.run(new String[] {"ctl", "--control", sock.toString(), "drain", "10.0.0.9:8080"},
                    new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
            assertEquals(1, status, "stdout: " + out + "; stderr: " + err);
            assertEquals("", out.toString(StandardCharsets.UTF_8), "no 'changed to drain' believed");
            assertEquals("epoll-proxy ctl: --control " + sock + ": the process there runs as user nobody, we as root; the command is not sent"
                    + " (epoll-proxy accepts ctl from its own user only)\n", err.toString(StandardCharsets.UTF_8));
            assertTrue(impostor.waitFor(30, TimeUnit.SECONDS), "the impostor ends");
            assertEquals("", Files.readString(heard), "the impostor heard nothing");
        } finally {
            impostor.destroyForcibly();
        }
    }
}
