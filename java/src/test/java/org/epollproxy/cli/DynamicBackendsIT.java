package org.epollproxy.cli;

import static org.epollproxy.cli.BalanceIT.ask;
import static org.epollproxy.cli.BalanceIT.get;
import static org.epollproxy.cli.ConfigReloadIT.awaitErr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.epollproxy.Ports;
import org.epollproxy.dns.TinyDnsServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backends that move, through the real jar under steady client load: a backend name whose DNS answer
 * changes (a DNS server the test runs, --resolver), and drain/disable/enable with {@code epoll-proxy ctl}.
 */
class DynamicBackendsIT {

    /** A backend that answers "TAG:" + each chunk, listening on {@code ip:port} (127.0.0.2 and the like). */
    static final class Tagged implements AutoCloseable {
        final ServerSocket server;
        final String tag;

        Tagged(String tag, String ip, int port) throws IOException {
            this.tag = tag;
            server = new ServerSocket(port, 200, InetAddress.getByName(ip));
            Thread t = new Thread(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket s = server.accept();
                        TaggedEcho.SERVERS.execute(() -> serve(s));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            t.setDaemon(true);
            t.start();
        }

        private void serve(Socket s) {
            try (s) {
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                byte[] b = new byte[4096];
                for (int n; (n = in.read(b)) > 0; ) {
                    out.write((tag + ":").getBytes());
                    out.write(b, 0, n);
                }
            } catch (IOException ignored) {
                // the client went away
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    /**
     * Steady load: one client at a time, each a new connection that asks once; it records when each
     * connection began and which backend answered, and counts failures. Bounded in count and time.
     * A millisecond between connections: still hundreds a second around each change (which the proxy
     * applies on a scale of seconds), where back to back they were thousands and made this class one of the
     * process tests' largest users of CPU (the client, a backend thread per connection, the proxy).
     */
    static final class Load implements AutoCloseable {
        final List<long[]> starts = new ArrayList<>();
        final List<String> tags = new ArrayList<>();
        final List<String> failures = new ArrayList<>();
        final AtomicBoolean stop = new AtomicBoolean();
        final Thread thread;

        Load(int port) {
            thread = new Thread(() -> {
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
                for (int i = 0; i < 20_000 && !stop.get() && System.nanoTime() < end; i++) {
                    long t = System.nanoTime();
                    String tag;
                    try {
                        String r = ask(port, "ping");
                        tag = r.endsWith(":ping") ? r.substring(0, r.length() - 5) : "bad reply " + r;
                    } catch (IOException e) {
                        tag = "failed: " + e;
                    }
                    synchronized (this) {
                        starts.add(new long[] {t});
                        tags.add(tag);
                        if (tag.startsWith("failed") || tag.startsWith("bad")) failures.add(tag);
                    }
                    java.util.concurrent.locks.LockSupport.parkNanos(1_000_000); // a pace, not a wait for anything
                }
            }, "load");
            thread.setDaemon(true);
            thread.start();
        }

        /** Backends of the connections that began after {@code since}, by count. */
        synchronized Map<String, Integer> after(long since) {
            Map<String, Integer> out = new TreeMap<>();
            for (int i = 0; i < tags.size(); i++) if (starts.get(i)[0] > since) out.merge(tags.get(i), 1, Integer::sum);
            return out;
        }

        synchronized int size() {
            return tags.size();
        }

        /** Waits until {@code n} more connections were made (the load goes on meanwhile). */
        void await(int n) throws InterruptedException {
            int target = size() + n;
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (size() < target) {
                if (System.nanoTime() > end || !thread.isAlive()) throw new AssertionError("the load stopped at " + size());
                Thread.sleep(10);
            }
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            thread.join(30_000);
        }
    }

    static JarProcess ctl(Path control, String... words) throws Exception {
        List<String> args = new ArrayList<>(List.of("ctl", "--control", control.toString()));
        args.addAll(List.of(words));
        JarProcess p = new JarProcess(args.toArray(new String[0]));
        p.exitCode(30);
        return p;
    }

    static String[] ctlArgs(Path control, String... words) {
        List<String> args = new ArrayList<>(List.of("ctl", "--control", control.toString()));
        args.addAll(List.of(words));
        return args.toArray(new String[0]);
    }

    /** The jar started with {@code args}, not waited for; added to {@code started} to be ended by the caller. */
    static JarProcess start(List<JarProcess> started, String... args) throws IOException {
        JarProcess p = new JarProcess(args);
        started.add(p);
        return p;
    }

    static String out(JarProcess p) {
        return String.join("\n", p.stdout);
    }

    @Test
    void aNameWhoseAddressIsReplacedSendsNewClientsToTheNewOneAndLetsOpenOnesFinish() throws Exception {
        int port = Ports.free();
        int bport = Ports.free();
        try (TinyDnsServer dns = new TinyDnsServer(); Tagged two = new Tagged("two", "127.0.0.2", bport);
                Tagged three = new Tagged("three", "127.0.0.3", bport)) {
            dns.set("app.test", "127.0.0.2");
            try (JarProcess p = new JarProcess("-L", port + ":app.test:" + bport, "--resolver", dns.address(),
                    "--resolve-interval", "1s", "--stats", "0", "--quiet")) {
                assertEquals("listening tcp 127.0.0.1:" + port + " -> 127.0.0.2:" + bport, p.nextLine());
                String stats = p.nextLine();
                try (Socket open = new Socket("127.0.0.1", port); Load load = new Load(port)) {
                    open.setSoTimeout(10_000);
                    assertEquals("two:before", TaggedEcho.ask(open, "before"));
                    load.await(50);

                    dns.set("app.test", "127.0.0.3");
                    awaitErr(p, "resolve: app.test: [127.0.0.3] (was [127.0.0.2])");
                    awaitErr(p, "resolve: backends updated: 0 added, 0 removed, 1 changed");
                    long applied = System.nanoTime();
                    load.await(100);
                    Map<String, Integer> after = load.after(applied);
                    assertEquals(java.util.Set.of("three"), after.keySet(), "after the next resolution: the new address only");
                    assertEquals(List.of(), load.failures, "no client refused or cut");
                    assertEquals("two:after", TaggedEcho.ask(open, "after"), "the open connection to the old address goes on");

                    String backends = get(stats, "/backends");
                    assertTrue(backends.contains("\"backend\": \"127.0.0.3:" + bport + "\"") && backends.contains("\"name\": \"app.test\", \"last_seen\": \"20"),
                            backends);
                    assertTrue(!backends.contains("127.0.0.2:"), "the gone address is no backend any more: " + backends);

                    // A failing DNS server: the last good set stays, the failure is counted and said once.
                    int before = dns.queries.get();
                    dns.failWith(2);
                    awaitErr(p, "resolve: app.test: A app.test from " + dns.address() + ": the server answered SERVFAIL; keeping its 1 address(es) [127.0.0.3]");
                    // (a round that got its A answer just before the change says "AAAA ..." first: at most two lines)
                    int said = p.stderr().split("SERVFAIL", -1).length - 1;
                    before = dns.queries.get();
                    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                    while (dns.queries.get() < before + 4 && System.nanoTime() < end) Thread.sleep(20); // several more rounds
                    long failedAt = System.nanoTime();
                    load.await(30);
                    assertEquals(java.util.Set.of("three"), load.after(failedAt).keySet());
                    assertTrue(said <= 2, p.stderr());
                    assertEquals(said, p.stderr().split("SERVFAIL", -1).length - 1, "said once, not per attempt:\n" + p.stderr());
                    String metrics = get(stats, "/metrics");
                    // at least 2 (a slow test reads it after 10 or more rounds: "[2-9]" alone failed on 10)
                    assertTrue(metrics.matches("(?s).*epollproxy_resolve_failures_total\\{name=\"app.test\"\\} ([2-9]|[1-9][0-9]+)\n.*"), metrics);
                    assertTrue(metrics.contains("epollproxy_resolve_addresses{name=\"app.test\"} 1"), metrics);
                    dns.failWith(0);
                    awaitErr(p, "resolve: app.test: resolves again");
                    assertEquals(List.of(), load.failures);
                }
            }
        }
    }

    /**
     * One process from a config file for the next two tests, which need no fresh one: a forward to a name with
     * A and AAAA records (aNameWithAAndAaaa...), and a forward to one backend whose file the reload test
     * rewrites with other resolver lines and the same two forwards, so the first test's forward stays as it
     * was whichever runs first.
     */
    static final class FromConfig {
        static Path conf;
        static TinyDnsServer dns;
        static final List<AutoCloseable> backends = new ArrayList<>();
        static TaggedEcho a;
        static int namePort;
        static int bport;
        static int otherPort;
        static int plainPort;
        static String rules;
        static JarProcess p;
        static final List<String> listening = new ArrayList<>();
    }

    @TempDir
    static Path confDir;

    @BeforeAll
    static void startFromConfig() throws Exception {
        FromConfig.conf = confDir.resolve("proxy.conf");
        FromConfig.namePort = Ports.free();
        FromConfig.bport = Ports.free();
        FromConfig.plainPort = Ports.free();
        FromConfig.dns = new TinyDnsServer();
        int bport = FromConfig.bport;
        FromConfig.backends.add(new Tagged("two", "127.0.0.2", bport));
        FromConfig.backends.add(new Tagged("three", "127.0.0.3", bport));
        FromConfig.backends.add(new Tagged("six", "::1", bport));
        TaggedEcho other = new TaggedEcho("other");
        FromConfig.backends.add(other);
        FromConfig.otherPort = other.port();
        FromConfig.a = new TaggedEcho("a");
        FromConfig.backends.add(FromConfig.a);
        FromConfig.dns.set("app.test", "127.0.0.2", "::1", "127.0.0.3");
        FromConfig.rules = "127.0.0.1 " + FromConfig.namePort + " app.test " + bport + " [balance=roundrobin, weight=2, backend=127.0.0.1:" + other.port() + "]\n"
                + "127.0.0.1 " + FromConfig.plainPort + " 127.0.0.1 " + FromConfig.a.port() + "\n";
        java.nio.file.Files.writeString(FromConfig.conf, "resolver " + FromConfig.dns.address() + "\nresolve_interval 1s\nslow_start 5s\n" + FromConfig.rules);
        FromConfig.p = new JarProcess("--config", FromConfig.conf.toString(), "--quiet");
        FromConfig.listening.add(FromConfig.p.nextLine());
        FromConfig.listening.add(FromConfig.p.nextLine());
    }

    @AfterAll
    static void stopFromConfig() throws Exception {
        if (FromConfig.p != null) FromConfig.p.close();
        for (AutoCloseable c : FromConfig.backends) c.close();
        if (FromConfig.dns != null) FromConfig.dns.close();
    }

    @Test
    void aNameWithAAndAaaaRecordsIsABackendPerAddressEachWithItsWeightFromTheConfigFile() throws Exception {
        int port = FromConfig.namePort;
        int bport = FromConfig.bport;
        assertEquals("listening tcp 127.0.0.1:" + port + " -> 127.0.0.2:" + bport + ",127.0.0.3:" + bport + ",[::1]:" + bport + ",127.0.0.1:" + FromConfig.otherPort,
                FromConfig.listening.get(0));
        Map<String, Integer> got = new TreeMap<>();
        for (int i = 0; i < 70; i++) got.merge(ask(port, "x"), 1, Integer::sum);
        assertEquals(Map.of("two:x", 20, "three:x", 20, "six:x", 20, "other:x", 10), got, "each address of the name weighs 2");
    }

    @Test
    void aReloadThatChangesTheResolverLinesSaysTheyWaitForARestart() throws Exception {
        JarProcess p = FromConfig.p;
        Path conf = FromConfig.conf;
        assertEquals("listening tcp 127.0.0.1:" + FromConfig.plainPort + " -> 127.0.0.1:" + FromConfig.a.port(), FromConfig.listening.get(1));
        p.signal("HUP");
        awaitErr(p, "0 added, 0 removed, 0 changed, 2 unchanged");
        assertTrue(!p.stderr().contains("read at start only"), "unchanged: nothing to say");
        java.nio.file.Files.writeString(conf, "resolver " + FromConfig.dns.address() + "\nslow_start 10s\nresolve_interval 5s\n" + FromConfig.rules);
        p.signal("HUP");
        awaitErr(p, conf + ": resolver, resolve_interval and slow_start are read at start only");
        assertEquals("a:x", ask(FromConfig.plainPort, "x"));
    }

    @Test
    void ctlDrainUnderLoadSendsNewClientsToTheOtherTwoAndEnableBringsItBack(@TempDir Path dir) throws Exception {
        int port = Ports.free();
        Path control = dir.resolve("control.sock");
        try (TaggedEcho a = new TaggedEcho("a"); TaggedEcho b = new TaggedEcho("b"); TaggedEcho c = new TaggedEcho("c")) {
            String bAddr = "127.0.0.1:" + b.port();
            String spec = port + ":127.0.0.1:" + a.port() + "," + bAddr + ",127.0.0.1:" + c.port();
            try (JarProcess p = new JarProcess("-L", spec, "--balance", "roundrobin", "--threads", "2", "--control", control.toString(),
                    "--slow-start", "2s", "--stats", "0", "--quiet")) {
                p.nextLine();
                String stats = p.nextLine();
                Socket onB = null;
                List<Socket> others = new ArrayList<>();
                while (onB == null) { // an open connection that the drain must not cut
                    Socket s = new Socket("127.0.0.1", port);
                    s.setSoTimeout(10_000);
                    if (TaggedEcho.ask(s, "hello").startsWith("b:")) onB = s;
                    else others.add(s);
                }
                try (Socket held = onB; Load load = new Load(port)) {
                    load.await(30);
                    JarProcess drain = ctl(control, "--forward", Integer.toString(port), "drain", bAddr);
                    assertEquals(0, drain.exitCode(5), drain.stderr());
                    assertEquals("127.0.0.1:" + port + " " + bAddr + " drain (was ready)\n1 backend(s) changed to drain", out(drain));
                    long drained = System.nanoTime();
                    load.await(60);
                    Map<String, Integer> after = load.after(drained);
                    assertTrue(!after.containsKey("b") && after.containsKey("a") && after.containsKey("c"), "after the drain: " + after);
                    assertEquals("b:still", TaggedEcho.ask(held, "still"), "the drained backend's open connection goes on");
                    awaitErr(p, "backend " + bAddr + " of 127.0.0.1:" + port + " drain: set by ctl (uid ");
                    assertTrue(get(stats, "/backends").contains("\"backend\": \"" + bAddr + "\", \"weight\": 1, \"state\": \"up\", \"down_reason\": null, \"admin\": \"drain\""),
                            get(stats, "/backends"));
                    assertTrue(get(stats, "/metrics").contains("epollproxy_server_admin_state{forward=\"127.0.0.1:" + port
                            + "\",proto=\"tcp\",backend=\"" + bAddr + "\",state=\"drain\"} 1"));
                    JarProcess list = ctl(control, "backends");
                    assertTrue(out(list).contains("127.0.0.1:" + port + " " + bAddr + " admin=drain health=up weight=1 open=1"), out(list));

                    // disable: still not cut; disable --reset: cut
                    assertEquals(0, ctl(control, "disable", bAddr).exitCode(5));
                    assertEquals("b:on", TaggedEcho.ask(held, "on"), "disable without --reset does not cut");
                    assertEquals(0, ctl(control, "disable", bAddr, "--reset").exitCode(5));
                    awaitErr(p, "reset 1 open connection(s)");
                    try {
                        String r = TaggedEcho.ask(held, "gone");
                        assertTrue(r.endsWith("<EOF>"), "reset: " + r);
                    } catch (IOException expected) {
                        // connection reset
                    }

                    JarProcess enable = ctl(control, "enable", bAddr);
                    assertEquals("127.0.0.1:" + port + " " + bAddr + " ready (was disabled)\n1 backend(s) changed to ready", out(enable));
                    long enabled = System.nanoTime();
                    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                    while (!load.after(enabled).containsKey("b")) {
                        assertTrue(System.nanoTime() < end, "b never came back: " + load.after(enabled));
                        load.await(10);
                    }
                    assertEquals(List.of(), load.failures, "no client refused or cut");
                } finally {
                    for (Socket s : others) s.close();
                }
            }
        }
    }

    @Test
    void badInputToCtlAndTheSocketGetsOneLineAndChangesNothing(@TempDir Path dir) throws Exception {
        int port = Ports.free();
        Path control = dir.resolve("control.sock");
        try (TaggedEcho a = new TaggedEcho("a"); TaggedEcho b = new TaggedEcho("b")) {
            String spec = port + ":127.0.0.1:" + a.port() + ",127.0.0.1:" + b.port();
            try (JarProcess p = new JarProcess("-L", spec, "--balance", "roundrobin", "--control", control.toString(), "--quiet")) {
                p.nextLine();
                String[][] bad = {
                    {"drain", "127.0.0.1:1"}, {"weight", "127.0.0.1:" + a.port(), "999"}, {"frob"},
                    {"--forward", "1", "drain", "127.0.0.1:" + a.port()}, {"enable"},
                };
                String[] says = {
                    "epoll-proxy ctl: no backend \"127.0.0.1:1\" in forward 127.0.0.1:" + port + " (see 'backends')",
                    "epoll-proxy ctl: weight: \"999\" is not a weight 1-256 (0: the configured one)",
                    "epoll-proxy ctl: unknown command \"frob\" (known: backends, drain, disable, enable, weight)",
                    "epoll-proxy ctl: no TCP forward listens on \"1\"",
                    "epoll-proxy ctl: usage: enable BACKEND",
                };
                String[][] badOptions = {{"--resolve-interval", "500ms"}, {"--resolver", "dns.example"}, {"--slow-start", "soon"}};
                boolean root = new com.sun.security.auth.module.UnixSystem().getUid() == 0;
                if (root) {
                    // A peer of another uid: the file mode would stop it first, so open the file up to meet the uid check.
                    java.nio.file.Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
                    java.nio.file.Files.setPosixFilePermissions(control, java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw-rw-"));
                    // The checkout may sit where uid 65534 cannot read (a 0700 temp dir): it runs a copy of the jar.
                    java.nio.file.Files.copy(JarProcess.jar(), dir.resolve("epoll-proxy.jar"));
                    java.nio.file.Files.setPosixFilePermissions(dir.resolve("epoll-proxy.jar"),
                            java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
                }
                // None of these processes changes the proxy (that is what they check), so they start together and
                // the test waits for one JVM start instead of a dozen in a row; what the proxy holds afterwards is
                // checked once they all ended.
                List<JarProcess> started = new ArrayList<>();
                Process other = null;
                try (TinyDnsServer dns = new TinyDnsServer()) {
                    List<JarProcess> badCtl = new ArrayList<>();
                    for (String[] words : bad) badCtl.add(start(started, ctlArgs(control, words)));
                    JarProcess none = start(started, ctlArgs(dir.resolve("nothing.sock"), "backends"));
                    JarProcess usage = start(started, "ctl", "backends");
                    JarProcess unresolved = start(started, "-L", "9:nowhere.test:10", "--resolver", dns.address());
                    List<JarProcess> badOption = new ArrayList<>();
                    for (String[] args : badOptions) badOption.add(start(started, "-L", "9:127.0.0.1:10", args[0], args[1]));
                    if (root) {
                        // The JDK's own class sharing and C1 only, as JarProcess starts the ctl command: about 0.4
                        // CPU-seconds where -Xshare:off with both compilers cost 0.7 (the build's archive does not
                        // fit the copied jar's path, so it is not named).
                        other = new ProcessBuilder("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                                "-XX:TieredStopAtLevel=1", "-XX:CompileThresholdScaling=4", "-jar",
                                dir.resolve("epoll-proxy.jar").toString(), "ctl", "--control", control.toString(), "drain", "127.0.0.1:" + a.port())
                                .redirectErrorStream(true).start();
                    }

                    // garbage on the socket itself: one error line, then the process goes on
                    try (java.nio.channels.SocketChannel ch = java.nio.channels.SocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
                        ch.connect(java.net.UnixDomainSocketAddress.of(control));
                        ch.write(java.nio.ByteBuffer.wrap("\u0001hello there\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)));
                        java.nio.ByteBuffer in = java.nio.ByteBuffer.allocate(4096);
                        while (ch.read(in) >= 0 && in.hasRemaining()) {
                            // until it closes
                        }
                        String reply = new String(in.array(), 0, in.position(), java.nio.charset.StandardCharsets.US_ASCII);
                        assertTrue(reply.startsWith("error ") && reply.indexOf('\n') == reply.length() - 1, reply);
                    }

                    for (int i = 0; i < bad.length; i++) {
                        assertEquals(1, badCtl.get(i).exitCode(60), String.join(" ", bad[i]));
                        assertEquals(says[i] + "\n", badCtl.get(i).stderr());
                    }
                    // the ctl command with no process behind the path
                    assertEquals(1, none.exitCode(60));
                    assertTrue(none.stderr().startsWith("epoll-proxy ctl: --control " + dir.resolve("nothing.sock")), none.stderr());
                    assertEquals(2, usage.exitCode(60));
                    assertEquals(1, unresolved.exitCode(60), "a name that does not resolve at start: as without --resolver");
                    assertTrue(unresolved.stderr().startsWith(
                            "epoll-proxy: cannot resolve host \"nowhere.test\" in -L 9:nowhere.test:10: no address from --resolver"),
                            unresolved.stderr());
                    for (int i = 0; i < badOptions.length; i++) {
                        assertEquals(2, badOption.get(i).exitCode(60), badOptions[i][0]);
                        assertTrue(badOption.get(i).stderr().startsWith("epoll-proxy: " + badOptions[i][0]), badOption.get(i).stderr());
                    }
                    if (other != null) {
                        assertTrue(other.waitFor(60, TimeUnit.SECONDS));
                        String said = new String(other.getInputStream().readAllBytes());
                        assertEquals(1, other.exitValue(), said);
                        assertTrue(said.startsWith("epoll-proxy ctl: --control " + control + ": the process there runs as user root, we as "), said);
                        awaitErr(p, "refused a connection from uid 65534");
                    }
                } finally {
                    for (JarProcess s : started) s.close();
                    if (other != null) other.destroyForcibly();
                }
                JarProcess list = ctl(control, "backends");
                assertTrue(!out(list).contains("drain") && out(list).contains("weight=1") && !out(list).contains("weight=999"), out(list));
                assertTrue(ask(port, "x").endsWith(":x"), "the proxy serves on");
                assertEquals(0, p.stderr().split("Exception", -1).length - 1, p.stderr());
            }
        }
    }
}
