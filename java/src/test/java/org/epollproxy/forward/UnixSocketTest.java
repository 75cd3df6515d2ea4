package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.epollproxy.shim.SockAddr;
import org.epollproxy.shim.SyscallException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * UNIX stream sockets on either side of a forward, over real sockets: TCP to UNIX, UNIX to TCP, UNIX to
 * UNIX, through the same pair code (half-close, a mebibyte each way, the splice path), the socket file's
 * mode, stale files, removal at exit, the log naming the path and the PROXY header for a UNIX client.
 */
@org.junit.jupiter.api.Timeout(60)
class UnixSocketTest {
    private final Path dir;
    private final java.util.List<AutoCloseable> open = new java.util.ArrayList<>();

    UnixSocketTest() throws IOException {
        dir = Files.createTempDirectory("ends");
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (AutoCloseable c : open) c.close();
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) Files.deleteIfExists(p);
        }
        Files.deleteIfExists(dir);
    }

    /** A UNIX socket echo server: reads until the client's FIN, echoing, then half-closes its side. */
    private Path unixEcho(String name) throws IOException {
        Path p = dir.resolve(name);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(p));
        open.add(server);
        Thread t = new Thread(() -> {
            while (server.isOpen()) {
                try (SocketChannel c = server.accept()) {
                    ByteBuffer b = ByteBuffer.allocate(65536);
                    while (c.read(b) > 0) {
                        b.flip();
                        while (b.hasRemaining()) c.write(b);
                        b.clear();
                    }
                    c.shutdownOutput();
                } catch (IOException e) {
                    return;
                }
            }
        }, "unix-echo");
        t.setDaemon(true);
        t.start();
        return p;
    }

    private static Forward forward(SockAddr bind, SockAddr backend, ProxyProtocol send) {
        return new Forward(Forward.Proto.TCP, bind, List.of(new Backend(backend.toString(), backend)), AccessRules.ALLOW_ALL,
                -1, null, "test to " + backend, send, false);
    }

    /** Sends {@code data}, half-closes, and returns everything read back until the proxy's FIN. */
    private static byte[] roundTrip(InputStream in, OutputStream out, Runnable shutdownOutput, byte[] data) throws Exception {
        Thread writer = new Thread(() -> {
            try {
                out.write(data);
                shutdownOutput.run();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        writer.start();
        byte[] got = in.readAllBytes();
        writer.join(10_000);
        return got;
    }

    private static byte[] tcpRoundTrip(TestProxy proxy, byte[] data) throws Exception {
        try (Socket c = proxy.connect()) {
            return roundTrip(c.getInputStream(), c.getOutputStream(), () -> {
                try {
                    c.shutdownOutput();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, data);
        }
    }

    /** As tcpRoundTrip over a UNIX socket; with the channel itself (Channels' streams share one lock: no full duplex). */
    private static byte[] unixRoundTrip(Path path, byte[] data) throws Exception {
        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            Thread writer = new Thread(() -> {
                try {
                    ByteBuffer b = ByteBuffer.wrap(data);
                    while (b.hasRemaining()) c.write(b);
                    c.shutdownOutput();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            writer.start();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            ByteBuffer b = ByteBuffer.allocate(65536);
            while (c.read(b) >= 0) {
                got.write(b.array(), 0, b.position());
                b.clear();
            }
            writer.join(10_000);
            return got.toByteArray();
        }
    }

    @Test
    void tcpClientToUnixBackendBothWaysWithHalfCloseCopyAndSplice() throws Exception {
        Path backend = unixEcho("backend.sock");
        byte[] data = HalfCloseTest.random(1 << 20, 21);
        for (boolean splice : new boolean[] {false, true}) {
            Settings s = Settings.builder().splice(splice).build();
            try (TestProxy proxy = new TestProxy(s, List.of(forward(SockAddr.parse("127.0.0.1", 0), SockAddr.unix(backend.toString()), ProxyProtocol.OFF)))) {
                assertArrayEquals(data, tcpRoundTrip(proxy, data));
                proxy.awaitLog("backend=" + backend + " up=" + data.length + " down=" + data.length);
                proxy.awaitLog("end=client-closed");
                if (splice) assertTrue(proxy.stats(0).bytesSplicedDown > 0, "the splice path carried the bytes");
            }
        }
    }

    @Test
    void unixListenerToTcpBackendWithItsModeAndItsFileRemovedAtExit() throws Exception {
        Path sock = dir.resolve("front.sock");
        byte[] data = HalfCloseTest.random(300_000, 22);
        try (TestBackend backend = TestBackend.echo();
                TestProxy proxy = new TestProxy(Settings.builder().unixMode(0660).build(),
                        List.of(forward(SockAddr.unix(sock.toString()), SockAddr.parse("127.0.0.1", backend.port()), ProxyProtocol.OFF)))) {
            assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)));
            assertEquals("tcp " + sock, proxy.forwards.get(0).key());
            assertArrayEquals(data, unixRoundTrip(sock, data));
            proxy.awaitLog("tcp client=unix listen=" + sock + " backend=127.0.0.1:" + backend.port() + " up=300000 down=300000");
        }
        assertFalse(Files.exists(sock), "the socket file is removed when the proxy stops");
    }

    @Test
    void unixToUnix() throws Exception {
        Path backend = unixEcho("b.sock");
        Path front = dir.resolve("a.sock");
        byte[] data = HalfCloseTest.random(200_000, 23);
        try (TestProxy proxy = new TestProxy(Settings.builder().splice(true).build(),
                List.of(forward(SockAddr.unix(front.toString()), SockAddr.unix(backend.toString()), ProxyProtocol.OFF)))) {
            assertArrayEquals(data, unixRoundTrip(front, data));
            proxy.awaitLog("tcp client=unix listen=" + front + " backend=" + backend + " up=200000 down=200000");
        }
    }

    @Test
    void aStaleSocketFileIsReplacedALiveOneAndAnyOtherFileAreNot() throws Exception {
        Path stale = dir.resolve("stale.sock");
        ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        dead.bind(UnixDomainSocketAddress.of(stale));
        dead.close(); // the file stays, nobody listens: what a killed process leaves behind
        assertTrue(Files.exists(stale));
        try (TestBackend backend = TestBackend.echo();
                TestProxy proxy = new TestProxy(Settings.DEFAULTS,
                        List.of(forward(SockAddr.unix(stale.toString()), SockAddr.parse("127.0.0.1", backend.port()), ProxyProtocol.OFF)))) {
            assertArrayEquals("hi".getBytes(), unixRoundTrip(stale, "hi".getBytes()));
        }

        Path live = unixEcho("live.sock");
        SyscallException e = assertThrows(SyscallException.class, () -> new TestProxy(Settings.DEFAULTS,
                List.of(forward(SockAddr.unix(live.toString()), SockAddr.parse("127.0.0.1", 1), ProxyProtocol.OFF))));
        assertTrue(e.getMessage().contains("another process is listening on it"), e.getMessage());
        assertArrayEquals("still served".getBytes(), unixRoundTrip(live, "still served".getBytes()));

        Path file = dir.resolve("plain");
        Files.writeString(file, "data");
        e = assertThrows(SyscallException.class, () -> new TestProxy(Settings.DEFAULTS,
                List.of(forward(SockAddr.unix(file.toString()), SockAddr.parse("127.0.0.1", 1), ProxyProtocol.OFF))));
        assertTrue(e.getMessage().contains("is not a socket"), e.getMessage());
        assertEquals("data", Files.readString(file));
    }

    /** Issue 22, item 5: at exit the path is removed only while it is still the socket this proxy made. */
    @Test
    void atExitAFileThatReplacedTheSocketStaysAndASymlinkAtThePathIsRefused() throws Exception {
        Path sock = dir.resolve("replaced.sock");
        try (TestBackend backend = TestBackend.echo();
                TestProxy proxy = new TestProxy(Settings.DEFAULTS,
                        List.of(forward(SockAddr.unix(sock.toString()), SockAddr.parse("127.0.0.1", backend.port()), ProxyProtocol.OFF)))) {
            assertArrayEquals("hi".getBytes(), unixRoundTrip(sock, "hi".getBytes()));
            Files.delete(sock);
            Files.writeString(sock, "another program's file");
        }
        assertEquals("another program's file", Files.readString(sock), "not ours any more: left alone");
        Files.delete(sock);

        Path target = dir.resolve("target");
        Files.writeString(target, "x");
        Path link = Files.createSymbolicLink(dir.resolve("link.sock"), target);
        SyscallException e = assertThrows(SyscallException.class, () -> new TestProxy(Settings.DEFAULTS,
                List.of(forward(SockAddr.unix(link.toString()), SockAddr.parse("127.0.0.1", 1), ProxyProtocol.OFF))));
        assertTrue(e.getMessage().contains("is not a socket (a symbolic link)"), e.getMessage());
        assertTrue(Files.isSymbolicLink(link));
        assertEquals("x", Files.readString(target));
        try (var left = Files.list(dir)) {
            assertEquals(List.of("link.sock", "target"), left.map(p -> p.getFileName().toString()).sorted().toList(),
                    "no private directory left behind");
        }
    }

    /** Issue 22, item 7: mode 0 is a mode (only root may connect then). */
    @Test
    void unixModeZeroMakesAFileNoOneButRootMayUse() throws Exception {
        Path sock = dir.resolve("zero.sock");
        try (TestBackend backend = TestBackend.echo();
                TestProxy proxy = new TestProxy(Settings.builder().unixMode(0).build(),
                        List.of(forward(SockAddr.unix(sock.toString()), SockAddr.parse("127.0.0.1", backend.port()), ProxyProtocol.OFF)))) {
            assertEquals("---------", PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)));
            assertArrayEquals("root".getBytes(), unixRoundTrip(sock, "root".getBytes())); // these tests run as root
        }
    }

    @Test
    void aUnixClientIsAnnouncedAsUnknownInV1AndLocalInV2() throws Exception {
        for (ProxyProtocol pp : new ProxyProtocol[] {ProxyProtocol.V1, ProxyProtocol.V2}) {
            Path front = dir.resolve("pp-" + pp + ".sock");
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            try (TestBackend backend = TestBackend.start(s -> got.writeBytes(s.getInputStream().readAllBytes()));
                    TestProxy proxy = new TestProxy(Settings.DEFAULTS,
                            List.of(forward(SockAddr.unix(front.toString()), SockAddr.parse("127.0.0.1", backend.port()), pp)))) {
                unixRoundTrip(front, "x".getBytes());
                proxy.awaitLog("end=");
                TestProxy.await(() -> got.size() > 1, "the backend read the header and the byte");
            }
            byte[] expect = pp == ProxyProtocol.V1 ? "PROXY UNKNOWN\r\nx".getBytes(StandardCharsets.US_ASCII)
                    : new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x20, 0x00, 0, 0, 'x'};
            assertArrayEquals(expect, got.toByteArray(), pp.toString());
        }
    }

    @Test
    void aMissingUnixBackendIsBackendUnreachableAndARefusingOneBackendRefused() throws Exception {
        Path missing = dir.resolve("none.sock");
        Path refusing = dir.resolve("refusing.sock");
        ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        dead.bind(UnixDomainSocketAddress.of(refusing));
        dead.close();
        try (TestProxy proxy = new TestProxy(Settings.DEFAULTS, List.of(
                forward(SockAddr.parse("127.0.0.1", 0), SockAddr.unix(missing.toString()), ProxyProtocol.OFF),
                forward(SockAddr.parse("127.0.0.1", 0), SockAddr.unix(refusing.toString()), ProxyProtocol.OFF)))) {
            for (int i = 0; i < 2; i++) {
                try (Socket c = new Socket()) {
                    c.connect(new InetSocketAddress("127.0.0.1", proxy.port(i)), 5000);
                    c.setSoTimeout(10_000);
                    assertEquals(-1, c.getInputStream().read());
                }
            }
            proxy.awaitLog("backend=" + missing + " up=0 down=0 ms=");
            proxy.awaitLog("end=backend-unreachable errno=ENOENT");
            proxy.awaitLog("end=backend-refused errno=ECONNREFUSED");
        }
    }

    @Test
    void withTwoLoopsAUnixListenerIsServedByTheFirstAndClosedOnce() throws Exception {
        Path backend = unixEcho("two-b.sock");
        Path front = dir.resolve("two-a.sock");
        try (TestProxy proxy = new TestProxy(ThreadsTest.twoLoops(),
                List.of(forward(SockAddr.unix(front.toString()), SockAddr.unix(backend.toString()), ProxyProtocol.OFF)))) {
            for (int i = 0; i < 4; i++) assertArrayEquals(("n" + i).getBytes(), unixRoundTrip(front, ("n" + i).getBytes()));
            assertEquals(1, (int) proxy.onLoop(0, fl -> fl.listeners().size()), "loop 0 listens");
            assertEquals(0, (int) proxy.onLoop(1, fl -> fl.listeners().size()), "loop 1 does not");
        }
        assertFalse(Files.exists(front));
    }
}
