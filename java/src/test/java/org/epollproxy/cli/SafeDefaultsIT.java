package org.epollproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Safe by default, checked on the kernel's own socket table: a forward without BIND and the stats
 * endpoint without BIND listen on 127.0.0.1 only, not on every interface.
 */
class SafeDefaultsIT {

    @Test
    void aForwardAndTheStatsEndpointWithoutBindListenOnLoopbackOnly() throws Exception {
        try (ServerSocket backend = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
                JarProcess p = new JarProcess("-L", "0:127.0.0.1:" + backend.getLocalPort(), "--stats", "0")) {
            int forwardPort = port(p.nextLine(), "listening tcp 127\\.0\\.0\\.1:(\\d+) -> .*");
            int statsPort = port(p.nextLine(), "listening http 127\\.0\\.0\\.1:(\\d+) .*");
            assertEquals(List.of("127.0.0.1"), listeningAddresses(forwardPort), "the forward's listening sockets");
            assertEquals(List.of("127.0.0.1"), listeningAddresses(statsPort), "the stats endpoint's listening sockets");
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
