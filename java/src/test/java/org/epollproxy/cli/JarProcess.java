package org.epollproxy.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The packaged jar run as a real process ({@code java -jar target/epoll-proxy.jar ...}), with stdout
 * lines queued and stderr collected. Integration tests only: failsafe passes the jar's path.
 */
final class JarProcess implements AutoCloseable {
    final Process process;
    final BlockingQueue<String> stdout = new LinkedBlockingQueue<>();
    private final StringBuffer stderr = new StringBuffer();
    private final List<Thread> pumps = new ArrayList<>();

    /** The class data sharing archive `mvn package` made for this JVM, next to the jar (it may not exist: -Dcds.skip). */
    static Path archive() {
        return jar().resolveSibling("epoll-proxy-jdk" + System.getProperty("java.version") + ".jsa");
    }

    /**
     * Flags for a start as bare {@code java -jar epoll-proxy.jar}: no native-library directory, so the proxy
     * extracts its libraries from the jar into a temporary directory (the later {@code -D} wins).
     */
    static final List<String> EXTRACTING = List.of("-D" + org.epollproxy.shim.Shim.NATIVE_DIR_PROPERTY + "=");

    static Path jar() {
        String p = System.getProperty("epollproxy.jar");
        if (p == null) throw new IllegalStateException("run through failsafe: -Depollproxy.jar is not set");
        Path jar = Path.of(p);
        if (!Files.isRegularFile(jar)) throw new IllegalStateException("no jar at " + jar);
        return jar;
    }

    JarProcess(List<String> jvmFlags, String... args) throws IOException {
        this(null, jvmFlags, args);
    }

    /**
     * The java command and JVM flags the process tests start the jar with, as bin/epoll-proxy starts it where
     * that does not change what a test sees: {@code -jar}, the jar and its arguments go after them.
     */
    static List<String> javaCommand(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-Xmx128m");
        if (Runtime.version().feature() >= 23) cmd.add("--sun-misc-unsafe-memory-access=allow");
        // The class data sharing archive the build made, as bin/epoll-proxy maps it: a start that loads
        // fewer classes from the jar (most of these tests start several processes).
        Path archive = archive();
        if (Files.isRegularFile(archive)) {
            cmd.addAll(List.of("-XX:SharedArchiveFile=" + archive, "-Xshare:auto", "-Xlog:cds=off", "-Xlog:cds+dynamic=off"));
        }
        // The native libraries as files next to the jar, as bin/epoll-proxy passes them: nothing extracted
        // into a temporary directory at each start (the copy, SecureRandom, about 80 JDK classes the archive
        // does not hold: about 0.03 of a start's 0.45 CPU-seconds). EXTRACTING starts without them.
        Path nativeDir = jar().resolveSibling("epoll-proxy-native");
        if (Files.isDirectory(nativeDir)) cmd.add("-D" + org.epollproxy.shim.Shim.NATIVE_DIR_PROPERTY + "=" + nativeDir);
        if (c1Only(args)) {
            cmd.add("-XX:TieredStopAtLevel=1");
            // A method is compiled after 4 times the invocations and loops it would be otherwise: most of what a
            // start runs (picocli's model, jnr-ffi's class generation) runs a few hundred times and is never
            // run again, and compiling it was about a quarter of a start's CPU; a forwarding loop still
            // reaches C1 within its first thousand events. About 0.05 of a start's 0.4 CPU-seconds.
            cmd.add("-XX:CompileThresholdScaling=4");
        }
        return cmd;
    }

    /** {@code shell}: a bash command run before bash execs the JVM (a limit, a signal disposition), or null. */
    private JarProcess(String shell, List<String> jvmFlags, String... args) throws IOException {
        List<String> cmd = javaCommand(args);
        cmd.addAll(jvmFlags);
        cmd.add("-jar");
        cmd.add(jar().toString());
        cmd.addAll(List.of(args));
        if (shell != null) {
            // A limit or a signal disposition applies to the shell and what it execs: the JVM gets it, the
            // test JVM does not.
            List<String> inShell = new ArrayList<>(List.of("bash", "-c", shell + " && exec \"$@\"", "bash"));
            inShell.addAll(cmd);
            cmd = inShell;
        }
        // SIGHUP, SIGINT and SIGTERM at their default disposition, as systemd or an interactive shell starts
        // the proxy, whatever the test command's own: run as a background job of a script (`.ci/run &`,
        // nohup, some CI runners) it has SIGINT ignored, every process it starts inherits that, and the JVM
        // keeps an inherited SIG_IGN, so a test's SIGINT did nothing. env execs the next command, so the
        // pid stays the JVM's; withSignalsIgnored's trap comes after it.
        List<String> withDefaultSignals = new ArrayList<>(List.of("env", "--default-signal=HUP,INT,TERM"));
        withDefaultSignals.addAll(cmd);
        cmd = withDefaultSignals;
        // Run from / to show the jar finds its native library wherever it is started.
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(Path.of("/").toFile());
        pb.environment().put("LC_ALL", "C.UTF-8"); // arguments reach the JVM as UTF-8 whatever the test's locale
        process = pb.start();
        pump(new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)), true);
        pump(new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8)), false);
    }

    /**
     * Whether the process runs with the C1 compiler only, as the test JVMs do: a start then costs about a fifth
     * less CPU (0.45 instead of 0.55 CPU-seconds to the listening line here), and the process tests start
     * well over a hundred of them. Not where the JIT is what the test is about: a proxy that terminates
     * or originates TLS ({@code --tls-*}, {@code --backend-tls*}, or a {@code --config} file with a TLS line:
     * the AES-GCM intrinsics that production's TLS runs on come with C2 only) or that warms its JIT up
     * ({@code --warmup}).
     */
    static boolean c1Only(String... args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.startsWith("--tls-") || a.startsWith("--backend-tls") || a.startsWith("--warmup")) return false;
            if (a.equals("--config") && i + 1 < args.length) {
                Path config = Path.of(args[i + 1]);
                try { // a small regular file only: tests hand the proxy /dev/zero and files it must refuse
                    if (Files.isRegularFile(config) && Files.size(config) < 1 << 20
                            && new String(Files.readAllBytes(config), java.nio.charset.StandardCharsets.ISO_8859_1).contains("tls")) {
                        return false;
                    }
                } catch (IOException unreadable) {
                    // the proxy says so itself; no TLS to keep C2 for
                }
            }
        }
        return true;
    }

    JarProcess(String... args) throws IOException {
        this(List.of(), args);
    }

    /** What {@code --help} did: its exit status and its stdout lines. */
    record Help(int exit, List<String> stdout) {}

    private static Help help;

    /**
     * The jar's {@code --help}, run once per test JVM and kept: four tests read it, and each start of the jar
     * costs a third of a CPU-second.
     */
    static synchronized Help help() throws IOException, InterruptedException {
        if (help == null) {
            try (JarProcess p = new JarProcess("--help")) {
                int exit = p.exitCode(START_S);
                help = new Help(exit, List.copyOf(p.stdout));
            }
        }
        return help;
    }

    /** The jar under {@code ulimit -n fdLimit} (bash execs java, so the pid is the JVM's). */
    static JarProcess withFdLimit(int fdLimit, String... args) throws IOException {
        return new JarProcess("ulimit -n " + fdLimit, List.of(), args);
    }

    /**
     * The jar started with {@code signals} (e.g. "TERM HUP") ignored, as {@code nohup} or a supervisor may
     * start it: bash's {@code trap ''} sets SIG_IGN, which the JVM it execs inherits.
     */
    static JarProcess withSignalsIgnored(String signals, String... args) throws IOException {
        return new JarProcess("trap '' " + signals, List.of(), args);
    }

    private void pump(BufferedReader r, boolean out) {
        Thread t = new Thread(() -> {
            try {
                String line;
                while ((line = r.readLine()) != null) {
                    if (out) stdout.add(line);
                    else {
                        synchronized (stderr) { // awaitStderr sleeps on it until a line comes
                            stderr.append(line).append('\n');
                            stderr.notifyAll();
                        }
                    }
                }
            } catch (IOException ignored) {
                // process ended
            }
        });
        t.setDaemon(true);
        t.start();
        pumps.add(t);
    }

    /**
     * How long a test waits for a started JVM to say something: one that starts in 0.3 s on a quiet machine
     * took more than 15 s at load 25 on the 2-core machine. The deadline costs nothing when the line comes.
     */
    static final int START_S = 60;

    /** The next stdout line within {@link #START_S} s. */
    String nextLine() throws InterruptedException {
        String l = stdout.poll(START_S, TimeUnit.SECONDS);
        if (l == null) throw new AssertionError("no stdout line within " + START_S + " s; stderr:\n" + stderr());
        return l;
    }

    String stderr() {
        return stderr.toString();
    }

    /**
     * Waits (30 s at most) until stderr holds {@code text}. A line the process wrote before a stdout line may
     * still be in the pump: stdout and stderr are read by two threads, so reading one says nothing of the other.
     */
    void awaitStderr(String text) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        synchronized (stderr) { // woken by each new line instead of copying stderr 100 times a second
            int from = 0;
            while (stderr.indexOf(text, from) < 0) {
                long left = end - System.nanoTime();
                if (left <= 0) throw new AssertionError("no '" + text + "' on stderr within 30 s:\n" + stderr());
                from = Math.max(0, stderr.length() - text.length()); // what was searched holds no match
                TimeUnit.NANOSECONDS.timedWait(stderr, left);
            }
        }
    }

    /**
     * Waits ({@code seconds} at most) until a whole stderr line matches {@code line}; {@code what} names it in
     * the failure. Woken by each new line, as {@link #awaitStderr}; each line is looked at once.
     */
    void awaitStderrLine(String what, Predicate<String> line, long seconds) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        synchronized (stderr) {
            int from = 0; // the start of the first line not yet looked at
            while (true) {
                for (int nl; (nl = stderr.indexOf("\n", from)) >= 0; from = nl + 1) {
                    if (line.test(stderr.substring(from, nl))) return;
                }
                long left = end - System.nanoTime();
                if (left <= 0) throw new AssertionError("no " + what + " on stderr within " + seconds + " s:\n" + stderr());
                TimeUnit.NANOSECONDS.timedWait(stderr, left);
            }
        }
    }

    /** Waits for exit (at most {@code seconds}) and returns the status. */
    int exitCode(long seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            throw new AssertionError("still running after " + seconds + " s; stderr:\n" + stderr());
        }
        for (Thread pump : pumps) pump.join(5000); // the process is gone: its pipes end, the pumps read the last lines
        return process.exitValue();
    }

    void signal(String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
        if (kill.waitFor() != 0) throw new AssertionError("kill -" + name + " failed");
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
