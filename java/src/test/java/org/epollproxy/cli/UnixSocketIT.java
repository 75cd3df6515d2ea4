package org.epollproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The packaged jar listening on a UNIX socket: its listening line, its mode, the global-rules note, removal at SIGTERM. */
class UnixSocketIT {
    @TempDir
    Path dir;

    /** Issue 22, item 3: --control on a regular file or an empty directory is one line and exit 1; both stay. */
    @Test
    void aControlPathThatIsAFileOrADirectoryIsRefusedAndKept() throws Exception {
        Path file = dir.resolve("notes.txt");
        Files.writeString(file, "keep");
        Path empty = Files.createDirectory(dir.resolve("empty"));
        for (Path p : new Path[] {file, empty}) {
            try (JarProcess proc = new JarProcess("-L", "0:127.0.0.1:9", "--control", p.toString())) {
                assertEquals(1, proc.exitCode(20), proc.stderr());
                String kind = p.equals(file) ? "a regular file" : "a directory";
                assertEquals("epoll-proxy: --control " + p + ": the path exists and is not a socket (" + kind
                        + "); not replacing it: EADDRINUSE (Address already in use)\n", proc.stderr());
            }
        }
        assertEquals("keep", Files.readString(file));
        assertTrue(Files.isDirectory(empty));
    }

    @Test
    void aUnixListenerFromTheConfigFileHasItsModeServesAndIsRemovedAtExit() throws Exception {
        Path sock = dir.resolve("front.sock");
        try (TaggedEcho echo = new TaggedEcho("b")) {
            Path conf = dir.resolve("proxy.conf");
            Files.writeString(conf, "allow 127.0.0.1\n" + sock + " 127.0.0.1 " + echo.port() + "\n");
            try (JarProcess p = new JarProcess("--config", conf.toString(), "--unix-mode", "0600")) {
                assertEquals("listening unix " + sock + " -> 127.0.0.1:" + echo.port(), p.nextLine());
                assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)));
                try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(sock))) {
                    c.write(ByteBuffer.wrap("hi".getBytes()));
                    ByteBuffer b = ByteBuffer.allocate(16);
                    while (b.position() < 4 && c.read(b) > 0) { }
                    assertEquals("b:hi", new String(b.array(), 0, b.position()));
                }
                p.awaitStderr("do not apply to the UNIX socket listener " + sock);
                p.signal("TERM");
                assertEquals(0, p.exitCode(10));
                assertTrue(p.stderr().contains("tcp client=unix listen=" + sock), p.stderr());
            }
            assertFalse(Files.exists(sock), "the socket file is removed at exit");
        }
    }
}
