package org.epollproxy.cli;

import static org.epollproxy.cli.CommandLineIT.assertNothingListens;
import static org.epollproxy.cli.ConfigReloadIT.awaitErr;
import static org.epollproxy.cli.ConfigReloadIT.connect;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * SIGTERM drains, through the real jar: listeners close at once, open connections finish, UDP sessions end,
 * /healthz says draining, /metrics and /connections still show what is open, the deadline resets the rest,
 * a second signal means now, and the exit status is 0 every time.
 */
class DrainIT {

    /** A started proxy: its TCP port, its UDP port (or -1) and its stats port (or -1). */
    record Started(JarProcess p, int tcp, int udp, int stats) {}

    static Started start(String... args) throws Exception {
        JarProcess p = new JarProcess(args);
        int tcp = -1;
        int udp = -1;
        int stats = -1;
        Pattern listening = Pattern.compile("listening (tcp|udp|http) 127\\.0\\.0\\.1:(\\d+).*");
        for (String a : args) if (a.equals("-L") || a.equals("-U") || a.equals("--stats")) {
            Matcher m = listening.matcher(p.nextLine());
            assertTrue(m.matches(), "a listening line");
            int port = Integer.parseInt(m.group(2));
            switch (m.group(1)) {
                case "tcp" -> tcp = port;
                case "udp" -> udp = port;
                default -> stats = port;
            }
        }
        return new Started(p, tcp, udp, stats);
    }

    static String[] get(int port, String path) throws IOException {
        HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + path).toURL().openConnection();
        c.setConnectTimeout(5000);
        c.setReadTimeout(5000);
        int status = c.getResponseCode();
        InputStream in = status < 400 ? c.getInputStream() : c.getErrorStream();
        return new String[] {Integer.toString(status), new String(in.readAllBytes(), StandardCharsets.UTF_8)};
    }

    /** A UDP backend that answers each datagram with "udp:" + the datagram. */
    static DatagramSocket udpEcho() throws IOException {
        DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        Thread t = new Thread(() -> {
            byte[] b = new byte[2048];
            while (!s.isClosed()) {
                try {
                    DatagramPacket d = new DatagramPacket(b, b.length);
                    s.receive(d);
                    byte[] r = ("udp:" + new String(b, 0, d.getLength(), StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
                    s.send(new DatagramPacket(r, r.length, d.getSocketAddress()));
                } catch (IOException e) {
                    return;
                }
            }
        });
        t.setDaemon(true);
        t.start();
        return s;
    }

    @Test
    void sigtermStopsAcceptingLetsOpenConnectionsFinishAndExitsZero() throws Exception {
        try (TaggedEcho echo = new TaggedEcho("b"); DatagramSocket ub = udpEcho(); DatagramSocket client = new DatagramSocket()) {
            Started s = start("-L", "0:127.0.0.1:" + echo.port(), "-U", "0:127.0.0.1:" + ub.getLocalPort(),
                    "--stats", "0", "--drain-timeout", "30");
            try (JarProcess p = s.p()) {
                Socket open = connect(s.tcp());
                assertEquals("b:before", TaggedEcho.ask(open, "before"));
                client.setSoTimeout(5000);
                byte[] q = "q".getBytes(StandardCharsets.UTF_8);
                client.send(new DatagramPacket(q, 1, InetAddress.getLoopbackAddress(), s.udp()));
                DatagramPacket r = new DatagramPacket(new byte[64], 64);
                client.receive(r);
                assertEquals("udp:q", new String(r.getData(), 0, r.getLength(), StandardCharsets.UTF_8));
                assertEquals("200", get(s.stats(), "/healthz")[0]);
                assertTrue(get(s.stats(), "/metrics")[1].contains("\nepollproxy_draining 0\n"));

                p.signal("TERM");
                awaitErr(p, "drain: began (SIGTERM); 1 connection(s) open, 1 UDP session(s) ended;");
                awaitErr(p, "udp client=127.0.0.1:" + client.getLocalPort()); // the session ended at the drain's start
                assertTrue(p.stderr().matches("(?s).*udp client=127\\.0\\.0\\.1:" + client.getLocalPort() + " .*end=shutdown.*"), p.stderr());
                assertNothingListens(s.tcp());

                String[] health = get(s.stats(), "/healthz");
                assertEquals("503", health[0]);
                assertEquals("draining\n", health[1]);
                assertEquals("200", get(s.stats(), "/livez")[0], "alive while draining: liveness must not kill a draining pod");
                String metrics = get(s.stats(), "/metrics")[1];
                assertTrue(metrics.contains("\nepollproxy_draining 1\n"), metrics);
                assertTrue(metrics.contains("epollproxy_connections_active{forward=\"127.0.0.1:" + s.tcp() + "\",proto=\"tcp\"} 1\n"), metrics);
                assertTrue(get(s.stats(), "/connections")[1].contains(Integer.toString(open.getLocalPort())), "still listed");

                assertEquals("b:during", TaggedEcho.ask(open, "during"), "the open connection carries on");
                open.close();
                assertEquals(0, p.exitCode(15));
                awaitErr(p, "drain: done in ");
                assertTrue(p.stderr().contains("; 0 connection(s) reset"), p.stderr());
                assertTrue(p.stderr().contains("end=client-closed"), p.stderr());
            }
        }
    }

    @Test
    void theDeadlineResetsWhatIsLeftAndExitsZero() throws Exception {
        try (TaggedEcho echo = new TaggedEcho("b")) {
            Started s = start("-L", "0:127.0.0.1:" + echo.port(), "--drain-timeout", "1");
            try (JarProcess p = s.p(); Socket idle = connect(s.tcp()); Socket idle2 = connect(s.tcp())) {
                assertEquals("b:x", TaggedEcho.ask(idle, "x"));
                assertEquals("b:y", TaggedEcho.ask(idle2, "y"));
                long t0 = System.nanoTime();
                p.signal("TERM");
                assertEquals(0, p.exitCode(15));
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertTrue(ms >= 900 && ms < 5000, "exited " + ms + " ms after SIGTERM with --drain-timeout 1");
                assertTrue(p.stderr().contains("drain: began (SIGTERM); 2 connection(s) open"), p.stderr());
                assertTrue(p.stderr().contains("; 2 connection(s) reset"), p.stderr());
                assertTrue(p.stderr().contains("end=shutdown"), p.stderr());
                assertEquals(-1, readOrReset(idle), "reset at the deadline");
            }
        }
    }

    @Test
    void aSecondSigtermDuringTheDrainStopsNow() throws Exception {
        try (TaggedEcho echo = new TaggedEcho("b")) {
            Started s = start("-L", "0:127.0.0.1:" + echo.port(), "--drain-timeout", "600");
            try (JarProcess p = s.p(); Socket open = connect(s.tcp())) {
                assertEquals("b:x", TaggedEcho.ask(open, "x"));
                p.signal("TERM");
                awaitErr(p, "drain: began");
                long t0 = System.nanoTime();
                p.signal("TERM");
                assertEquals(0, p.exitCode(10));
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertTrue(ms < 2000, "exited " + ms + " ms after the second SIGTERM");
                assertTrue(p.stderr().contains("drain: stopping now; resetting the 1 connection(s) left"), p.stderr());
                assertEquals(-1, readOrReset(open));
            }
        }
    }

    @Test
    void withNoOpenConnectionTheDrainEndsAtOnce() throws Exception {
        try (TaggedEcho echo = new TaggedEcho("b")) {
            Started s = start("-L", "0:127.0.0.1:" + echo.port(), "--drain-timeout", "600");
            try (JarProcess p = s.p()) {
                long t0 = System.nanoTime();
                p.signal("TERM");
                assertEquals(0, p.exitCode(10));
                assertTrue((System.nanoTime() - t0) / 1_000_000 < 2000);
                assertTrue(p.stderr().contains("drain: began (SIGTERM); 0 connection(s) open"), p.stderr());
            }
        }
    }

    static int readOrReset(Socket c) {
        try {
            return c.getInputStream().read();
        } catch (IOException reset) {
            return -1;
        }
    }
}
