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
     * --warmup auto ends when the JIT is quiet, after rounds on fresh private forwards: the real forward's
     * first connections then meet no branch the JIT compiled out of the forwarding code. Such a branch
     * throws the method's compiled code away (HotSpot prints "made not entrant" for it at tier 4) and
     * sends it back to the interpreter and the compiler in the first second. One round left the first
     * real connections of a new forward (empty buffer pool, new loop) to do that to EventLoop.dispatch,
     * register and the buffer pool. The process is killed (SIGKILL) after them, so no shutdown path counts.
     */
    @Test
    void autoLeavesNoCompiledForwardingCodeForTheFirstRealConnectionsToThrowAway() throws Exception {
        try (TaggedEcho backend = new TaggedEcho("b");
                JarProcess p = new JarProcess(java.util.List.of("-XX:+PrintCompilation"),
                        "--quiet", "--warmup", "auto", "-L", "0:127.0.0.1:" + backend.port())) {
            String listening;
            while (!(listening = p.nextLine()).startsWith("listening")) {
                // the compilations of the start and the warm-up
            }
            p.awaitStderr(" before listening");
            Matcher warm = Pattern.compile("warm-up: (\\d+) connection\\(s\\) .* in \\d+ ms, \\d rounds, (.*), before listening")
                    .matcher(p.stderr());
            assertTrue(warm.find(), "a line says how the automatic warm-up ended: " + p.stderr());
            assertTrue(Integer.parseInt(warm.group(1)) > 0, warm.group());
            int port = Integer.parseInt(listening.replaceAll("listening tcp 127\\.0\\.0\\.1:(\\d+) .*", "$1"));
            Thread[] clients = new Thread[4];
            java.util.concurrent.atomic.AtomicInteger answered = new java.util.concurrent.atomic.AtomicInteger();
            for (int t = 0; t < clients.length; t++) {
                clients[t] = new Thread(() -> {
                    for (int i = 0; i < 100; i++) {
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
            assertEquals(400, answered.get(), "every real connection answered");
            p.signal("KILL");
            p.exitCode(60);
            org.junit.jupiter.api.Assumptions.assumeFalse(warm.group(2).contains("cap"),
                    "the warm-up hit its cap on a machine this busy: the JIT was not done, nothing to check");
            java.util.List<String> thrownAway = new java.util.ArrayList<>();
            for (String l; (l = p.stdout.poll()) != null; ) {
                if (l.matches(".*\\s4\\s+org\\.epollproxy\\.\\S+ .*made not entrant.*")) thrownAway.add(l.trim());
            }
            assertEquals(java.util.List.of(), thrownAway, "compiled code the real connections threw away");
        }
    }
}
