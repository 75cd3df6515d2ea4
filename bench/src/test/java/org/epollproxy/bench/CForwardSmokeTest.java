package org.epollproxy.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * bench/native/cforward (compare.sh's c-epoll, c-uring and c-uring-unlinked rows) forwards what its
 * measurement needs: every byte in order both ways, through partial sends, and a closed connection
 * gives back both of its descriptors. Skipped where cforward was not built (kernel headers older
 * than 6.1) or where the kernel refuses io_uring.
 *
 * <p>Its tests run side by side: each starts an echo server and a cforward of its own (this class's fields
 * are per test), and the resets wait on stalled sends, not on the CPU (one after another, the three modes'
 * resets took 4 of the module's 7 s of tests).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
@Execution(ExecutionMode.CONCURRENT)
class CForwardSmokeTest {
    private static final Path BUILD = Path.of("target", "jni-build");
    private static final Path CFORWARD = BUILD.resolve("cforward");
    /** Many times what the sockets hold, through a small client receive buffer: sends stop short. */
    private static final int BULK = 8 * 1024 * 1024;
    private static final int CLIENT_RCVBUF = 16 * 1024;
    private static final int CONNECTIONS = 20;
    /**
     * Connections reset while their sends wait: each first writes until 200 ms pass without progress, so a few
     * (each leaks its descriptors when a reset chain is miscounted) rather than CONNECTIONS.
     */
    private static final int RESETS = 4;

    private final List<Process> started = new ArrayList<>();
    private int echoPort;

    @BeforeEach
    void startEcho() throws IOException {
        assumeTrue(Files.isExecutable(CFORWARD), "no " + CFORWARD + " (built only with Linux 6.1+ headers)");
        String line = firstLine(start(BUILD.resolve("echoserver").toString(), "0"));
        assertTrue(line != null && line.startsWith("echo "), "echoserver's first line: " + line);
        echoPort = Integer.parseInt(line.substring(5).trim());
    }

    @AfterEach
    void stopAll() throws InterruptedException {
        for (Process p : started) {
            p.destroy();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"epoll", "uring", "uring-unlinked"})
    void bulkBytesComeBackInOrderThroughTheForwarder(String mode) throws Exception {
        Process fwd = startForwarder(mode);
        int port = announcedPort(fwd, mode);
        try (SocketChannel ch = SocketChannel.open()) {
            ch.setOption(StandardSocketOptions.SO_RCVBUF, CLIENT_RCVBUF); // before connect: no autotuning
            ch.connect(new InetSocketAddress("127.0.0.1", port));
            byte[] sent = new byte[BULK];
            new Random(7).nextBytes(sent);
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    ByteBuffer out = ByteBuffer.wrap(sent);
                    while (out.hasRemaining()) ch.write(out);
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            ByteBuffer in = ByteBuffer.allocate(BULK);
            Wire.readFully(ch, in);
            writer.get(30, TimeUnit.SECONDS);
            assertArrayEquals(sent, in.array(), mode + ": echoed bytes differ");
            // cforward closes both sockets at the first EOF (no half-close): the client's FIN ends it all
            ch.shutdownOutput();
            assertEquals(-1, ch.read(ByteBuffer.allocate(1)), mode + ": the client's FIN must close the connection");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"epoll", "uring", "uring-unlinked"})
    void closedConnectionsGiveBackTheirDescriptors(String mode) throws Exception {
        Process fwd = startForwarder(mode);
        int port = announcedPort(fwd, mode);
        long before = descriptors(fwd);
        for (int i = 0; i < CONNECTIONS; i++) {
            try (SocketChannel ch = SocketChannel.open(new InetSocketAddress("127.0.0.1", port))) {
                ByteBuffer out = ByteBuffer.wrap(("ping " + i).getBytes(StandardCharsets.US_ASCII));
                ByteBuffer in = ByteBuffer.allocate(out.remaining());
                Wire.roundTrip(ch, out, in);
                assertEquals("ping " + i, new String(in.array(), StandardCharsets.US_ASCII), mode);
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (descriptors(fwd) > before && System.nanoTime() < deadline) Thread.sleep(50);
        assertEquals(before, descriptors(fwd), mode + ": cforward's open descriptors after the connections closed");
    }

    @ParameterizedTest
    @ValueSource(strings = {"epoll", "uring", "uring-unlinked"})
    void connectionsResetWhileSendsWaitGiveBackTheirDescriptors(String mode) throws Exception {
        Process fwd = startForwarder(mode);
        int port = announcedPort(fwd, mode);
        long before = descriptors(fwd);
        ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
        for (int i = 0; i < RESETS; i++) {
            try (SocketChannel ch = SocketChannel.open()) {
                ch.setOption(StandardSocketOptions.SO_RCVBUF, CLIENT_RCVBUF);
                ch.connect(new InetSocketAddress("127.0.0.1", port));
                ch.configureBlocking(false);
                // The client never reads: the echoes fill its socket, then the forwarder's and the backend's,
                // until writes stop; then every send on the way waits for room, and the reset fails them.
                long stalledSince = 0;
                while (stalledSince == 0 || System.nanoTime() - stalledSince < TimeUnit.MILLISECONDS.toNanos(200)) {
                    chunk.clear();
                    if (ch.write(chunk) > 0) stalledSince = 0;
                    else if (stalledSince == 0) stalledSince = System.nanoTime();
                    else Thread.sleep(10);
                }
                // No progress for 200 ms may also be a stalled scheduler: the reset must come while the
                // forwarder's socket to this client holds unsent bytes (its send waits for room), or the test
                // would pass without the path it is for.
                int clientPort = ((InetSocketAddress) ch.getLocalAddress()).getPort();
                long queued = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (sendQueue(port, clientPort) <= 0) {
                    assertTrue(System.nanoTime() < queued, mode + ": the forwarder's socket to the client never held unsent bytes");
                    Thread.sleep(10);
                }
                ch.setOption(StandardSocketOptions.SO_LINGER, 0); // close sends a reset
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (descriptors(fwd) > before && System.nanoTime() < deadline) Thread.sleep(50);
        assertEquals(before, descriptors(fwd), mode + ": cforward's open descriptors after the resets");
    }

    @Test
    void aUsageErrorExitsWithStatus2() throws Exception {
        for (List<String> args : List.<List<String>>of(List.of(), List.of("kqueue", "0:1"), List.of("epoll", "0:0"), List.of("uring", "x"))) {
            List<String> cmd = new ArrayList<>(List.of(CFORWARD.toString()));
            cmd.addAll(args);
            Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(true).start();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "still running: " + args);
            assertEquals(2, p.exitValue(), String.join(" ", args));
        }
    }

    /**
     * Two forwards to the echo backend; the tests use the second, whose place in cforward's array is not
     * 16-byte aligned unless the struct is (the low bits of its address tag it in epoll's and io_uring's
     * user data).
     */
    private Process startForwarder(String mode) throws IOException {
        return start(CFORWARD.toString(), mode, "0:" + echoPort, "0:" + echoPort);
    }

    private Process start(String... cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        started.add(p);
        return p;
    }

    /**
     * The port of "forward 127.0.0.1:PORT -> ...", which cforward prints once it is ready to serve. Without
     * it, an io_uring mode is skipped (kernel.io_uring_disabled or a seccomp filter refuses io_uring_setup).
     */
    private static int announcedPort(Process fwd, String mode) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(fwd.getInputStream(), StandardCharsets.US_ASCII));
        String first = out.readLine();
        String line = first == null ? null : out.readLine();
        if (first == null) {
            assertTrue(fwd.waitFor(10, TimeUnit.SECONDS), "cforward closed its output but runs on");
            assertTrue(mode.startsWith("uring"), "cforward " + mode + " did not start: exit " + fwd.exitValue());
            assumeTrue(false, "cforward " + mode + ": this kernel refuses io_uring (exit " + fwd.exitValue() + ")");
        }
        assertTrue(line.startsWith("forward 127.0.0.1:"), "cforward's first line: " + line);
        return Integer.parseInt(line.substring("forward 127.0.0.1:".length(), line.indexOf(' ', "forward ".length())));
    }

    private static String firstLine(Process p) throws IOException {
        return new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.US_ASCII)).readLine();
    }

    /**
     * The unsent bytes (tx_queue, /proc/net/tcp) of the loopback socket whose local port is {@code localPort}
     * and remote port {@code remotePort}; -1 when there is none.
     */
    private static long sendQueue(int localPort, int remotePort) throws IOException {
        String local = String.format(":%04X", localPort), remote = String.format(":%04X", remotePort);
        for (String line : Files.readAllLines(Path.of("/proc/net/tcp"))) {
            String[] f = line.trim().split("\\s+");
            if (f.length > 4 && f[1].endsWith(local) && f[2].endsWith(remote)) {
                return Long.parseLong(f[4].substring(0, f[4].indexOf(':')), 16);
            }
        }
        return -1;
    }

    private static long descriptors(Process p) throws IOException {
        try (var s = Files.list(Path.of("/proc", String.valueOf(p.pid()), "fd"))) {
            return s.count();
        }
    }
}
