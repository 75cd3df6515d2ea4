package org.epollproxy.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.epollproxy.Ports;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/** The real jar as users run it: exit codes, messages, the listening line, signals. */
class CommandLineIT {

    static void assertNothingListens(int port) {
        assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", port).close(),
                "something listens on " + port);
    }

    /** Each bad -L (PORT: a free port) and what the error says of it. */
    static final String[][] BAD_SPECS = {
        {"PORT:127.0.0.1", "expected [BIND:]PORT:HOST:HOSTPORT"},
        {"PORT:127.0.0.1:99999", "port 99999 is out of range 1-65535"},
        {"PORT:127.0.0.1:http", "port \"http\" is not a number"},
        {"PORT:[::1:8000", "'[' without ']'"},
        {"PORT:bad host!:8000", "bad host name \"bad host!\""},
        {"127.0.0.1:PORT:127.0.0.1:0", "port 0 is out of range 1-65535"},
    };

    static Stream<Arguments> badSpecs() {
        return Arrays.stream(BAD_SPECS).map(c -> Arguments.of(c[0], c[1]));
    }

    /** The port each bad spec's good forward asks for. */
    private static final Map<String, Integer> SPEC_PORTS = new HashMap<>();
    /** The port aTakenStatsPortExitsOneAndNothingListens's forward asks for. */
    private static int statsTestPort;
    /** The ports that were taken while the runs that meet them ran: a forward's, a --stats one's. */
    private static int inUsePort;
    private static int takenStatsPort;
    /** The runs of this class that end by themselves: started together, each checked by its test below. */
    private static OneShots runs;

    @BeforeAll
    static void runTheOneShotsTogether() throws Exception {
        runs = new OneShots();
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                ServerSocket takenStats = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            for (String[] c : BAD_SPECS) {
                int port = Ports.free();
                SPEC_PORTS.put(c[0], port);
                // A good forward first: it must not be left listening when a later one is bad.
                runs.start("spec " + c[0], "-L", port + ":127.0.0.1:9", "-L", c[0].replace("PORT", Integer.toString(port)));
            }
            runs.start("12q", "-L", "9:127.0.0.1:9", "--buffer-size", "12q");
            runs.start("nothing");
            runs.start("in use", "-L", taken.getLocalPort() + ":127.0.0.1:9");
            runs.start("unknown host", "-L", "0:no-such-host.invalid:80");
            runs.start("version", "--version");
            runs.start("send-proxy v3", "-L", "0:127.0.0.1:9", "--send-proxy", "v3");
            runs.start("stats ::1", "-L", "0:127.0.0.1:9", "--stats", "::1:9100");
            statsTestPort = Ports.free();
            runs.start("stats taken", "-L", statsTestPort + ":127.0.0.1:9", "--stats", Integer.toString(takenStats.getLocalPort()));
            JarProcess.help(); // the one --help of this JVM, meanwhile
            runs.awaitAll(); // the ports stay taken until every run has ended
            inUsePort = taken.getLocalPort();
            takenStatsPort = takenStats.getLocalPort();
        }
    }

    @AfterAll
    static void endTheRuns() {
        if (runs != null) runs.close();
    }

    @ParameterizedTest(name = "-L {0}")
    @MethodSource("badSpecs")
    void aBadSpecExitsTwoNamingItAndListensNowhere(String spec, String message) throws Exception {
        int port = SPEC_PORTS.get(spec);
        String arg = spec.replace("PORT", Integer.toString(port));
        JarProcess p = runs.get("spec " + spec);
        assertEquals(2, p.exitCode(20));
        String err = p.stderr();
        assertTrue(err.contains("-L " + arg), "names the argument: " + err);
        assertTrue(err.contains(message), "says what is wrong: " + err);
        assertEquals(0, p.stdout.size(), "nothing was announced as listening");
        assertNothingListens(port);
    }

    @Test
    void anUnknownOptionOrBadValueIsAUsageError() throws Exception {
        JarProcess p = runs.get("12q");
        assertEquals(2, p.exitCode(20));
        assertTrue(p.stderr().contains("'12q' is not a size"), p.stderr());
        JarProcess nothing = runs.get("nothing");
        assertEquals(2, nothing.exitCode(20));
        assertTrue(nothing.stderr().contains("nothing to forward"), nothing.stderr());
    }

    @Test
    void anAddressInUseExitsOneNamingTheAddressAndTheError() throws Exception {
        JarProcess p = runs.get("in use"); // its port was taken by a ServerSocket until it ended
        assertEquals(1, p.exitCode(20));
        assertTrue(p.stderr().contains("127.0.0.1:" + inUsePort) && p.stderr().contains("Address already in use"),
                p.stderr());
    }

    @Test
    void anUnknownHostExitsOne() throws Exception {
        JarProcess p = runs.get("unknown host");
        assertEquals(1, p.exitCode(30));
        assertTrue(p.stderr().contains("cannot resolve host \"no-such-host.invalid\""), p.stderr());
    }

    @Test
    void hostNamesResolveAndSeveralForwardsShareOneProcess() throws Exception {
        // As bare `java -jar`, from /: the proxy extracts its native libraries from the jar and forwards.
        try (TaggedEcho one = new TaggedEcho("one"); TaggedEcho two = new TaggedEcho("two");
                JarProcess p = new JarProcess(JarProcess.EXTRACTING, "-L", "0:localhost:" + one.port(), "-L", "localhost:0:127.0.0.1:" + two.port())) {
            int[] ports = new int[2];
            for (int i = 0; i < 2; i++) {
                Matcher m = Pattern.compile("listening tcp 127\\.0\\.0\\.1:(\\d+) -> 127\\.0\\.0\\.1:(\\d+)").matcher(p.nextLine());
                assertTrue(m.matches());
                ports[i] = Integer.parseInt(m.group(1));
            }
            try (Socket a = new Socket("127.0.0.1", ports[0]); Socket b = new Socket("127.0.0.1", ports[1])) {
                assertEquals("one:a", TaggedEcho.ask(a, "a"));
                assertEquals("two:b", TaggedEcho.ask(b, "b"));
            }
        }
    }

    @Test
    void helpAndVersionExitZero() throws Exception {
        JarProcess.Help help = JarProcess.help();
        assertEquals(0, help.exit());
        String all = String.join("\n", help.stdout());
        assertTrue(all.contains("[BIND:]PORT:HOST:HOSTPORT") && all.contains("Exit status"), all);
        JarProcess p = runs.get("version");
        assertEquals(0, p.exitCode(20));
        assertTrue(p.nextLine().startsWith("epoll-proxy 0."));
    }

    @Test
    void everyNewOptionIsInTheHelpWithALineThatTeaches() throws Exception {
        JarProcess.Help help = JarProcess.help();
        assertEquals(0, help.exit());
        String all = String.join(" ", help.stdout()).replaceAll("\\s+", " ");
        for (String opt : new String[] {"--threads", "--splice", "--stats", "--send-proxy"}) {
            assertTrue(all.contains(opt), opt + " in --help:\n" + all);
        }
        assertTrue(all.contains("splice(2)") && all.contains("/metrics") && all.contains("PROXY protocol"), all);
    }

    @Test
    void badValuesOfTheNewOptionsAreUsageErrors() throws Exception {
        JarProcess p = runs.get("send-proxy v3");
        assertEquals(2, p.exitCode(20));
        assertTrue(p.stderr().contains("--send-proxy: expected v1 or v2, not \"v3\""), p.stderr());
        JarProcess stats = runs.get("stats ::1");
        assertEquals(2, stats.exitCode(20));
        assertTrue(stats.stderr().contains("IPv6 goes in brackets"), stats.stderr());
    }

    @Test
    void aTakenStatsPortExitsOneAndNothingListens() throws Exception {
        JarProcess p = runs.get("stats taken"); // its stats port was taken by a ServerSocket until it ended
        assertEquals(1, p.exitCode(20));
        assertTrue(p.stderr().contains("--stats 127.0.0.1:" + takenStatsPort), p.stderr());
        assertNothingListens(statsTestPort);
    }

    @ParameterizedTest
    @CsvSource({"TERM", "INT"})
    void aSignalStopsItWithStatusZeroWithinTwoSeconds(String signal) throws Exception {
        try (ServerSocket backend = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
                JarProcess p = new JarProcess("-L", "0:127.0.0.1:" + backend.getLocalPort(),
                        "--drain-timeout", signal.equals("TERM") ? "0" : "10")) {
            Matcher m = Pattern.compile("listening tcp 127\\.0\\.0\\.1:(\\d+) -> 127\\.0\\.0\\.1:" + backend.getLocalPort())
                    .matcher(p.nextLine());
            assertTrue(m.matches(), "the listening line with the real port");
            int port = Integer.parseInt(m.group(1));
            try (Socket c = new Socket("127.0.0.1", port); Socket b = backend.accept()) {
                c.getOutputStream().write("ping".getBytes());
                assertArrayEquals("ping".getBytes(), b.getInputStream().readNBytes(4));
                long t0 = System.nanoTime();
                p.signal(signal);
                assertEquals(0, p.exitCode(10));
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertTrue(ms < 2000, "exited after " + ms + " ms");
                assertEquals(-1, readOrReset(c), "the open connection was closed");
                assertTrue(p.stderr().contains("end=shutdown"), p.stderr());
            }
            assertNothingListens(port);
        }
    }

    private static int readOrReset(Socket c) {
        try {
            return c.getInputStream().read();
        } catch (IOException reset) {
            return -1;
        }
    }
}
