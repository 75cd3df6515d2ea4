package org.epollproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * --warmup: before the listening line, connections run through a private loopback forward so the JIT has
 * compiled the forwarding path; none of them shows in the log, and the real forward then works as ever.
 */
class WarmupIT {
    @Test
    void warmsUpBeforeListeningWithoutLoggingItsConnections() throws Exception {
        try (ServerSocket backend = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
                JarProcess p = new JarProcess("--warmup", "300", "-L", "0:127.0.0.1:" + backend.getLocalPort())) {
            String listening = p.nextLine();
            assertTrue(listening.startsWith("listening tcp 127.0.0.1:"), listening);
            p.awaitStderr(" before listening"); // written before the listening line, but read by another pump
            Matcher warm = Pattern.compile("warm-up: (\\d+) connection\\(s\\) through a private loopback forward in (\\d+) ms")
                    .matcher(p.stderr());
            assertTrue(warm.find(), "a line says what the warm-up did: " + p.stderr());
            assertTrue(Integer.parseInt(warm.group(1)) > 0, "the warm-up made connections: " + warm.group());
            assertTrue(!p.stderr().contains(" end="), "no warm-up connection is logged: " + p.stderr());

            int port = Integer.parseInt(listening.replaceAll("listening tcp 127\\.0\\.0\\.1:(\\d+) .*", "$1"));
            try (Socket client = new Socket(InetAddress.getLoopbackAddress(), port)) {
                client.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
                client.shutdownOutput();
                try (Socket served = backend.accept()) {
                    byte[] got = served.getInputStream().readAllBytes();
                    assertEquals("ping", new String(got, StandardCharsets.US_ASCII));
                    served.getOutputStream().write("pong".getBytes(StandardCharsets.US_ASCII));
                }
                assertEquals("pong", new String(client.getInputStream().readAllBytes(), StandardCharsets.US_ASCII));
            }
            p.signal("TERM");
            assertEquals(0, p.exitCode(60));
            assertEquals(1, p.stderr().split(" end=", -1).length - 1, "only the real connection is logged: " + p.stderr());
        }
    }

    /**
     * --warmup auto: rounds of private forwards until the JIT is quiet, a line that says how it ended, none
     * of its connections logged, and then the real forward serves as ever (four clients at once).
     *
     * <p>And the warm-up's log lines go nowhere through the classes the real ones go through (System.err's),
     * so the real forward's first log lines throw none of the compiled code away: in HotSpot's compilation
     * log, no type-check trap in Log.flush. Over a null stream, the first flush to stderr met a
     * FileOutputStream where the code compiled during the warm-up expected the null stream's class (a
     * class_check trap in Log.flush, inlined into EventLoop.runOnce). One process for both: a warm-up is
     * the dearest start of the suite.
     */
    @Test
    void autoWarmsUpUntilTheJitIsQuietThenServesAndItsLogLinesThrowNoCompiledCodeAway(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path jit = dir.resolve("jit.log");
        try (TaggedEcho backend = new TaggedEcho("b");
                JarProcess p = new JarProcess(java.util.List.of("-XX:+UnlockDiagnosticVMOptions", "-XX:+LogCompilation", "-XX:LogFile=" + jit),
                        "--warmup", "auto", "-L", "0:127.0.0.1:" + backend.port())) {
            String listening = p.nextLine();
            assertTrue(listening.startsWith("listening tcp 127.0.0.1:"), listening);
            p.awaitStderr(" before listening");
            Matcher warm = Pattern.compile("warm-up: (\\d+) connection\\(s\\) through a private loopback forward in \\d+ ms, "
                    + "(2 rounds, until the JIT was quiet for 200 ms|\\d rounds?, (at its cap, the JIT still compiling|its connections failing)), before listening")
                    .matcher(p.stderr());
            assertTrue(warm.find(), "a line says how the automatic warm-up ended: " + p.stderr());
            assertTrue(Integer.parseInt(warm.group(1)) > 0, warm.group());
            int port = Integer.parseInt(listening.replaceAll("listening tcp 127\\.0\\.0\\.1:(\\d+) .*", "$1"));
            Thread[] clients = new Thread[4];
            java.util.concurrent.atomic.AtomicInteger answered = new java.util.concurrent.atomic.AtomicInteger();
            for (int t = 0; t < clients.length; t++) {
                clients[t] = new Thread(() -> {
                    for (int i = 0; i < 25; i++) {
                        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                            s.setSoTimeout(30_000);
                            if (TaggedEcho.ask(s, "ping").equals("b:ping")) answered.incrementAndGet();
                        } catch (java.io.IOException e) {
                            return;
                        }
                    }
                });
                clients[t].start();
            }
            for (Thread t : clients) t.join(120_000);
            assertEquals(100, answered.get(), "every real connection answered");
            p.signal("TERM");
            assertEquals(0, p.exitCode(60));
            assertEquals(100, p.stderr().split(" end=", -1).length - 1, "only the real connections are logged");
        }
        assertNoTypeCheckTrapInTheLogPath(java.nio.file.Files.readString(jit));
    }

    private static void assertNoTypeCheckTrapInTheLogPath(String jitLog) {
        Matcher trap = Pattern.compile("<uncommon_trap thread='\\d+' reason='(class_check|bimorphic[a-z_]*)'[^>]*>((?:\\s*<jvms[^>]*>)*)").matcher(jitLog);
        while (trap.find()) {
            assertTrue(!trap.group(2).contains("org.epollproxy.forward.Log flush"), "a type-check trap in the log path: " + trap.group());
        }
    }

    @Test
    void aWarmupThatIsNeitherAutoNorADurationIsAUsageError() throws Exception {
        try (JarProcess p = new JarProcess("--warmup", "soon", "-L", "0:127.0.0.1:9")) {
            assertEquals(2, p.exitCode(60));
            assertTrue(p.stderr().contains("'soon' is neither auto nor a duration"), p.stderr());
        }
    }
}
