package org.epollproxy.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.File;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * The C tools the scripts drive the forwarders with (bench/native/echoserver.c and loadclient.c, built by
 * this module's cmake step into target/jni-build) echo every byte, count what they did and print the fields
 * the scripts parse. Short runs, no timing asserted; the class runs beside the other smoke tests (they share
 * nothing), so the build takes no longer for it.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
@Execution(ExecutionMode.CONCURRENT)
class NativeToolsSmokeTest {
    /** Surefire runs in the module's directory; the pom's jni.build.dir. */
    private static final Path BUILD = Path.of("target", "jni-build");

    /**
     * Through a client receive buffer of {@link #CLIENT_RCVBUF}: many times what the sockets hold, so whenever
     * the reading thread lags the echo server's send stops short and it waits for EPOLLOUT.
     */
    private static final int BULK = 16 * 1024 * 1024;
    private static final int CLIENT_RCVBUF = 16 * 1024;

    private Process echo;
    private int echoPort;

    @BeforeEach
    void startEcho() throws IOException {
        echo = new ProcessBuilder(BUILD.resolve("echoserver").toString(), "0").redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String line = new BufferedReader(new InputStreamReader(echo.getInputStream(), StandardCharsets.US_ASCII)).readLine();
        assertTrue(line != null && line.startsWith("echo "), "echoserver's first line: " + line);
        echoPort = Integer.parseInt(line.substring(5).trim());
    }

    @AfterEach
    void stopEcho() throws InterruptedException {
        echo.destroy();
        echo.waitFor(10, TimeUnit.SECONDS);
    }

    @Test
    void theEchoServerReturnsBulkBytesInOrderAndClosesAfterTheFin() throws Exception {
        try (SocketChannel ch = SocketChannel.open()) {
            ch.setOption(StandardSocketOptions.SO_RCVBUF, CLIENT_RCVBUF); // before connect: no autotuning
            ch.connect(new InetSocketAddress("127.0.0.1", echoPort));
            byte[] sent = new byte[BULK];
            new Random(1).nextBytes(sent);
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    ByteBuffer out = ByteBuffer.wrap(sent);
                    while (out.hasRemaining()) ch.write(out);
                    ch.shutdownOutput();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            ByteBuffer in = ByteBuffer.allocate(BULK);
            Wire.readFully(ch, in);
            writer.get(30, TimeUnit.SECONDS);
            assertArrayEquals(sent, in.array(), "echoed bytes differ");
            assertEquals(-1, ch.read(ByteBuffer.allocate(1)), "the client's FIN must close the echo server's side");
        }
    }

    @Test
    void pingPongCountsRoundTripsAndTheBackendsCpuSplitIntoUserAndSystem() throws Exception {
        Map<String, String> f = run("pingpong", "pingpong", String.valueOf(echoPort), "3", "0.5", "0.1");
        assertEquals("3", f.get("conns"));
        assertTrue(Double.parseDouble(f.get("round_trips_per_s")) > 0, f.toString());
        assertEquals("0", f.get("errors"), f.toString());
        assertTrue(Double.parseDouble(f.get("p99_us")) >= Double.parseDouble(f.get("p50_us")), f.toString());
        assertCpuFields(f);
    }

    @Test
    void connRateCountsConnectionsTheBackendsCpuAndLeaksNoDescriptorInTheEchoServer() throws Exception {
        long before = descriptors();
        Map<String, String> f = run("connrate", "connrate", String.valueOf(echoPort), "2", "0.5", "0");
        assertTrue(Long.parseLong(f.get("ok")) > 0, f.toString());
        assertEquals("0", f.get("failed"), f.toString());
        assertCpuFields(f);
        // every connection was closed by the client: the server's descriptors come back to where they were
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (descriptors() > before && System.nanoTime() < deadline) Thread.sleep(50);
        assertEquals(before, descriptors(), "echoserver's open descriptors after the connections closed");
    }

    @Test
    void bothToolsExitWithStatus2OnAUsageError() throws Exception {
        for (List<String> args : List.of(List.of("echoserver"), List.of("echoserver", "70000"),
                List.of("loadclient"), List.of("loadclient", "pingpong", "1", "0", "1", "0"), List.of("loadclient", "nosuchmode", "1", "1", "1", "1"))) {
            List<String> cmd = new ArrayList<>(args);
            cmd.set(0, BUILD.resolve(args.get(0)).toString());
            Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(true).start();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "still running: " + args);
            assertEquals(2, p.exitValue(), String.join(" ", args));
        }
    }

    /** loadclient ARGS with CPU_PIDS naming the echo server: the fields of its result line, which starts with {@code kind}. */
    private Map<String, String> run(String kind, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(BUILD.resolve("loadclient").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().put("CPU_PIDS", String.valueOf(echo.pid()));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.startsWith(kind + " "), out);
        Map<String, String> fields = new HashMap<>();
        for (String kv : out.split(" ")) {
            int eq = kv.indexOf('=');
            if (eq > 0) fields.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        return fields;
    }

    /** The fields compare.sh reads; user + system is the total (each rounded to 0.01). */
    private static void assertCpuFields(Map<String, String> f) {
        for (String k : List.of("cpu_cores", "cpu_us_per_op", "cpu_user_us_per_op", "cpu_sys_us_per_op")) {
            assertTrue(f.containsKey(k), "no " + k + " in " + f);
        }
        double total = Double.parseDouble(f.get("cpu_us_per_op"));
        double parts = Double.parseDouble(f.get("cpu_user_us_per_op")) + Double.parseDouble(f.get("cpu_sys_us_per_op"));
        assertEquals(total, parts, 0.02, f.toString());
    }

    private long descriptors() throws IOException {
        try (var s = Files.list(Path.of("/proc", String.valueOf(echo.pid()), "fd"))) {
            return s.count();
        }
    }

    static {
        // the tools are built by the module's generate-resources step; a clear word when they are not there
        for (String tool : List.of("echoserver", "loadclient")) {
            File f = BUILD.resolve(tool).toFile();
            if (!f.canExecute()) throw new IllegalStateException("no " + f + ": build the bench module (mvn -pl bench package)");
        }
    }
}
