package org.epollproxy.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.epollproxy.forward.UnixSockets;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.Shim;
import org.epollproxy.shim.SockAddr;
import org.epollproxy.shim.SyscallException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 22, items 1 and 2: another user who can write to the socket's directory races every socket file
 * the proxy makes ({@code racer.c}, run as nobody through setpriv): it swaps the socket for a symlink to a
 * root-owned 0644 file, and the private directory for a symlink to a directory of its own. The proxy makes
 * the file many times (in turn a {@code -L} listener with {@code --unix-mode 0666} and {@code --control}
 * with 0600); the victim's mode never changes. Against the code that chmod-ed the path after bind, the victim
 * became 0666 within the first dozen starts (and, making only --control files, 0600 within a hundred).
 */
class SocketFileRaceTest {
    static final int STARTS = 150;
    static final int MAX_STARTS = 20 * STARTS;
    static final long BUDGET_NS = TimeUnit.SECONDS.toNanos(40);

    @TempDir
    Path base;

    @Test
    void anotherUserRacingTheSocketFileNeverChangesTheModeOfAFileElsewhere() throws Exception {
        Kernel k = Shim.load();
        org.junit.jupiter.api.Assumptions.assumeTrue(k.getuid() == 0, "setpriv --reuid needs root (the test machines run as root)");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path victim = base.resolve("victim");
        Files.writeString(victim, "root's file\n");
        Files.setPosixFilePermissions(victim, PosixFilePermissions.fromString("rw-r--r--"));
        Path dir = Files.createDirectory(base.resolve("shared"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx")); // the other user writes here
        Path sock = dir.resolve("front.sock");
        Path racer = compileRacer();

        Process p = new ProcessBuilder("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                racer.toString(), sock.toString(), victim.toString(), "120").redirectErrorStream(true).start();
        int made = 0;
        int refused = 0;
        String racerSays;
        try {
            long end = System.nanoTime() + BUDGET_NS;
            Path swapped = dir.resolve("swapped"); // the racer's sign that it got in at least once
            // At least 2 * STARTS starts, more (bounded) until the racer got in: a loaded machine may run it seldom.
            for (int i = 0; i < MAX_STARTS && System.nanoTime() < end && (i < 2 * STARTS || !Files.exists(swapped)); i++) {
                try {
                    if (i % 2 == 0) {
                        SockAddr addr = SockAddr.unix(sock.toString());
                        int fd = UnixSockets.listen(k, addr, 16, 0666);
                        UnixSockets.remove(addr);
                        k.close(fd);
                    } else {
                        ControlServer c = ControlServer.bind(k, sock, false);
                        c.close();
                    }
                    made++;
                } catch (SyscallException e) { // the racer's symlink (or directory) was there first: refused, as it must be
                    refused++;
                }
                assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(victim)),
                        "start " + i + " changed the mode of the file the racer pointed at");
                if (Files.isSymbolicLink(sock)) Files.delete(sock); // the racer won that round; clear the way for the next
            }
        } finally {
            Files.writeString(dir.resolve("stop"), "");
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the racer stops");
            try (InputStream in = p.getInputStream()) {
                racerSays = new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim();
            }
        }
        System.out.println("socket-file race: " + made + " made, " + refused + " refused; racer swaps (socket dir): " + racerSays);
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(victim)));
        assertEquals("root's file\n", Files.readString(victim));
        String[] swaps = racerSays.split(" ");
        assertEquals(2, swaps.length, "the racer's report: " + racerSays);
        assertTrue(Long.parseLong(swaps[0]) + Long.parseLong(swaps[1]) > 0, "the racer got in at least once: " + racerSays);
        assertTrue(made > 0, "some starts went through");
        assertTrue(!Files.exists(sock, LinkOption.NOFOLLOW_LINKS) || Files.isSymbolicLink(sock), "no socket file left behind");
    }

    /** racer.c, compiled where nobody can run it. */
    private Path compileRacer() throws Exception {
        Path src = base.resolve("racer.c");
        try (InputStream in = SocketFileRaceTest.class.getResourceAsStream("racer.c")) {
            Files.copy(in, src);
        }
        Path bin = base.resolve("racer");
        Process cc = new ProcessBuilder("cc", "-O2", "-o", bin.toString(), src.toString()).redirectErrorStream(true).start();
        String out = new String(cc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, cc.waitFor(), "cc racer.c: " + out);
        Files.setPosixFilePermissions(bin, PosixFilePermissions.fromString("rwxr-xr-x"));
        return bin;
    }
}
