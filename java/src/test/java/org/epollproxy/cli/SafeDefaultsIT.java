package org.epollproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Safe by default, checked on the kernel's own socket table: a forward without BIND and the stats
 * endpoint without BIND listen on 127.0.0.1 only, not on every interface; and a peer's junk bytes to
 * the stats endpoint get an error, not a stack trace.
 */
class SafeDefaultsIT {

    @Test
    void withoutBindItListensOnLoopbackOnlyAndJunkGetsAnErrorNotAStackTrace() throws Exception {
        try (ServerSocket backend = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
                JarProcess p = new JarProcess("-L", "0:127.0.0.1:" + backend.getLocalPort(), "--stats", "0")) {
            int forwardPort = port(p.nextLine(), "listening tcp 127\\.0\\.0\\.1:(\\d+) -> .*");
            int statsPort = port(p.nextLine(), "listening http 127\\.0\\.0\\.1:(\\d+) .*");
            assertEquals(List.of("127.0.0.1"), listeningAddresses(forwardPort), "the forward's listening sockets");
            assertEquals(List.of("127.0.0.1"), listeningAddresses(statsPort), "the stats endpoint's listening sockets");

            // The stats endpoint is the one listener that parses what a peer sends: garbage gets an error
            // or a close, never a stack trace, and the endpoint and the forward keep serving.
            for (String junk : new String[] {"\u0000\u00ff\r\n\r\n", "GET /" + "a".repeat(70_000) + " HTTP/1.1\r\n\r\n",
                "POST /metrics HTTP/1.1\r\nContent-Length: -5\r\n\r\n", "GET /../../etc/passwd HTTP/1.0\r\n\r\n"}) {
                try (Socket s = new Socket("127.0.0.1", statsPort)) {
                    s.setSoTimeout(10_000);
                    s.getOutputStream().write(junk.getBytes(StandardCharsets.ISO_8859_1));
                    s.shutdownOutput();
                    String reply = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                    assertTrue(reply.isEmpty() || reply.startsWith("HTTP/1.1 4") || reply.startsWith("HTTP/1.1 5"),
                            "an error status or a close for junk, got: " + reply.lines().findFirst().orElse(""));
                } catch (java.net.SocketException reset) {
                    // a reset is a fine answer to junk too
                }
            }
            try (Socket s = new Socket("127.0.0.1", statsPort)) {
                s.setSoTimeout(10_000);
                s.getOutputStream().write("GET /healthz HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                String reply = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                assertTrue(reply.startsWith("HTTP/1.1 200"), "the endpoint still serves: " + reply);
            }
            try (Socket c = new Socket("127.0.0.1", forwardPort); Socket b = backend.accept()) {
                c.getOutputStream().write(7);
                assertEquals(7, b.getInputStream().read(), "the forward still serves");
            }
            assertTrue(!p.stderr().contains("\tat ") && !p.stderr().contains("Exception"), "no stack trace: " + p.stderr());
        }
    }

    private static int port(String line, String regex) {
        Matcher m = Pattern.compile(regex).matcher(line);
        assertTrue(m.matches(), line);
        return Integer.parseInt(m.group(1));
    }

    /** Local addresses of the sockets in LISTEN state on {@code port}, from /proc/net/tcp and tcp6. */
    static List<String> listeningAddresses(int port) throws IOException {
        String hexPort = String.format(":%04X", port);
        java.util.List<String> out = new java.util.ArrayList<>();
        for (String table : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
            for (String line : Files.readAllLines(Path.of(table))) {
                String[] f = line.trim().split("\\s+");
                if (f.length < 4 || !f[1].endsWith(hexPort) || !f[3].equals("0A")) continue; // 0A = LISTEN
                out.add(decode(f[1].substring(0, f[1].indexOf(':'))));
            }
        }
        return out;
    }

    /** /proc/net/tcp writes addresses as host-order 32-bit words in hex. */
    private static String decode(String hex) throws IOException {
        byte[] b = new byte[hex.length() / 2];
        for (int w = 0; w < b.length / 4; w++) {
            for (int i = 0; i < 4; i++) {
                b[w * 4 + i] = (byte) Integer.parseInt(hex.substring(w * 8 + (3 - i) * 2, w * 8 + (3 - i) * 2 + 2), 16);
            }
        }
        return InetAddress.getByAddress(b).getHostAddress();
    }
}
