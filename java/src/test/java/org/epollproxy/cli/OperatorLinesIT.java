package org.epollproxy.cli;

import static org.epollproxy.cli.ConfigReloadIT.awaitErr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.epollproxy.Ports;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the packaged jar tells an operator: the start-up line names every page of --stats, /metrics
 * carries the build and the process as /proc shows it from outside, and the process that took the
 * sockets over says what it took and from which process. The first two tests read one process (a
 * TCP and a UNIX listener and --stats) started once for both: neither needs a fresh one.
 */
class OperatorLinesIT {

    private static String metric(String metrics, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + " (\\S+)$").matcher(metrics);
        assertTrue(m.find(), "no " + name + " in\n" + metrics);
        return m.group(1);
    }

    @TempDir
    static Path sockDir;
    /** One process for the first two tests, which only read it: a TCP and a UNIX listener and --stats. */
    private static TaggedEcho echo;
    private static JarProcess p;
    /** Its three start-up lines, in order: the TCP forward, the UNIX forward, the stats listener. */
    private static final java.util.List<String> lines = new java.util.ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        echo = new TaggedEcho("b");
        p = new JarProcess("-L", "0:127.0.0.1:" + echo.port(), "-L", sockDir.resolve("in.sock") + ":127.0.0.1:" + echo.port(),
                "--stats", "127.0.0.1:0");
        for (int i = 0; i < 3; i++) lines.add(p.nextLine());
    }

    @AfterAll
    static void stop() throws Exception {
        if (p != null) p.close();
        if (echo != null) echo.close();
    }

    @Test
    void theStartUpLineNamesEveryStatsPageAndMetricsShowTheBuildAndTheProcess() throws Exception {
        assertTrue(lines.get(0).startsWith("listening tcp "), lines.get(0));
        Matcher m = Pattern.compile("listening http 127\\.0\\.0\\.1:(\\d+) (.*)").matcher(lines.get(2));
        assertTrue(m.matches(), lines.get(2));
        assertEquals("/ /metrics /connections /backends /healthz /livez", m.group(2));
        int stats = Integer.parseInt(m.group(1));
        for (String page : m.group(2).split(" ")) assertEquals("200", DrainIT.get(stats, page)[0], page + " answers");

        String metrics = DrainIT.get(stats, "/metrics")[1];
        String version;
        try (JarFile jar = new JarFile(JarProcess.jar().toFile())) {
            version = jar.getManifest().getMainAttributes().getValue("Implementation-Version");
        }
        assertEquals("1", metric(metrics, "epollproxy_build_info{version=\"" + version + "\"}"));
        long pid = p.process.pid();
        String limits = Files.readString(Path.of("/proc", Long.toString(pid), "limits"));
        Matcher nofile = Pattern.compile("(?m)^Max open files\\s+(\\d+)").matcher(limits);
        assertTrue(nofile.find());
        assertEquals(nofile.group(1), metric(metrics, "process_max_fds"));
        double start = Double.parseDouble(metric(metrics, "process_start_time_seconds"));
        double jvmStart = p.process.info().startInstant().orElseThrow().toEpochMilli() / 1000.0;
        assertTrue(Math.abs(start - jvmStart) < 2, "start " + start + ", /proc says " + jvmStart);
        long rss = Long.parseLong(metric(metrics, "process_resident_memory_bytes"));
        long rssNow = ProcStat.rssKiB(pid) * 1024;
        assertTrue(rss > rssNow / 2 && rss < rssNow * 2, rss + " bytes resident, /proc says " + rssNow + " now");
        long fds = Long.parseLong(metric(metrics, "process_open_fds"));
        assertTrue(Math.abs(fds - ProcStat.openFds(pid)) <= 3, fds + " open fds, /proc lists " + ProcStat.openFds(pid));
        assertTrue(Double.parseDouble(metric(metrics, "process_cpu_seconds_total")) > 0);
    }

    /**
     * {@code --io-uring}: the forward serves through a loop on io_uring, /metrics says the loop runs on it and
     * counts its sends, and SIGTERM still ends the process cleanly (the ring's sends settled, exit 0).
     */
    @Test
    void aLoopOnIoUringServesAndMetricsSaySo() throws Exception {
        try (JarProcess ring = new JarProcess("--io-uring", "-L", "0:127.0.0.1:" + echo.port(), "--stats", "127.0.0.1:0")) {
            Matcher fwd = Pattern.compile("listening tcp 127\\.0\\.0\\.1:(\\d+) -> .*").matcher(ring.nextLine());
            assertTrue(fwd.matches());
            Matcher st = Pattern.compile("listening http 127\\.0\\.0\\.1:(\\d+) .*").matcher(ring.nextLine());
            assertTrue(st.matches());
            try (java.net.Socket c = ConfigReloadIT.connect(Integer.parseInt(fwd.group(1)))) {
                for (int i = 0; i < 3; i++) assertEquals("b:hi" + i, TaggedEcho.ask(c, "hi" + i), "served through the ring");
            }
            String metrics = DrainIT.get(Integer.parseInt(st.group(1)), "/metrics")[1];
            assertEquals("1", metric(metrics, "epollproxy_loop_io_uring{loop=\"0\"}"), "the loop runs on io_uring");
            assertTrue(Long.parseLong(metric(metrics, "epollproxy_loop_io_uring_sends_total{loop=\"0\"}")) >= 3,
                    "its sends went through the ring");
            ring.signal("TERM");
            assertEquals(0, ring.exitCode(30), ring.stderr());
            assertTrue(!ring.stderr().contains("io_uring refused"), ring.stderr());
        }
    }

    @Test
    void aUnixSocketListenerIsListedAsUnix() throws Exception {
        assertEquals("listening unix " + sockDir.resolve("in.sock") + " -> 127.0.0.1:" + echo.port(), lines.get(1));
    }

    @Test
    void theProcessThatTookTheSocketsOverSaysWhatAndFromWhom(@TempDir Path dir) throws Exception {
        Path ctl = dir.resolve("ctl.sock");
        int port = Ports.free();
        try (TaggedEcho echo = new TaggedEcho("b")) {
            String fwd = port + ":127.0.0.1:" + echo.port();
            try (JarProcess old = new JarProcess("-L", fwd, "--control", ctl.toString(), "--threads", "2")) {
                old.nextLine();
                try (JarProcess neu = new JarProcess("-L", fwd, "--takeover", ctl.toString(), "--threads", "2")) {
                    neu.nextLine();
                    awaitErr(neu, "takeover: took over 2 listening socket(s) (tcp 127.0.0.1:" + port + ") from pid "
                            + old.process.pid() + " through " + ctl + "; that process drains now");
                    awaitErr(old, "control: the listening sockets were taken over by pid " + neu.process.pid() + "; draining");
                    assertEquals(0, old.exitCode(20), old.stderr());
                    try (Socket c = ConfigReloadIT.connect(port)) {
                        assertEquals("b:hi", TaggedEcho.ask(c, "hi"), "the new process serves");
                    }
                }
            }
        }
    }

    /**
     * Started with SIGTERM and SIGHUP ignored (nohup ignores SIGHUP; a supervisor may ignore any), the JVM keeps
     * them ignored and installs no handler: the proxy says so at start instead of leaving an operator's
     * SIGTERM or reload doing nothing without a word. (Closed with SIGKILL: the test's own SIGINT may arrive
     * ignored too, under nohup or as a background job.)
     */
    @Test
    void signalsTheProcessWasStartedWithIgnoredAreNamedAtStart() throws Exception {
        try (JarProcess ignoring = JarProcess.withSignalsIgnored("TERM HUP", "-L", "0:127.0.0.1:" + echo.port())) {
            assertTrue(ignoring.nextLine().startsWith("listening tcp "));
            ignoring.awaitStderr("epoll-proxy: SIGTERM is ignored (this process was started with it ignored): it does not drain or stop on SIGTERM\n");
            ignoring.awaitStderr("epoll-proxy: SIGHUP is ignored (this process was started with it ignored, as nohup does): no reload on SIGHUP\n");
        }
    }

    /** With -Xrs (JAVA_EXTRA_OPTS) the JVM keeps SIGTERM and SIGHUP: their default action ends the process, no drain. */
    @Test
    void signalsTheJvmKeepsToItselfAreNamedAtStart() throws Exception {
        try (JarProcess reduced = new JarProcess(java.util.List.of("-Xrs"), "-L", "0:127.0.0.1:" + echo.port())) {
            assertTrue(reduced.nextLine().startsWith("listening tcp "));
            reduced.awaitStderr("epoll-proxy: SIGTERM is the JVM's (-Xrs): it ends the process at once, without a drain\n");
            reduced.awaitStderr("epoll-proxy: SIGHUP is the JVM's (-Xrs): it ends the process at once, no reload\n");
        }
    }
}
