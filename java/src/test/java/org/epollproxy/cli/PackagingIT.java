package org.epollproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.epollproxy.Ports;
import org.epollproxy.forward.ThirdParty;
import org.junit.jupiter.api.Test;

/**
 * packaging/: the systemd unit and the Containerfile name the files the build makes, use only options
 * the program has, and what can run here does (systemd-analyze verify, the image's health check).
 */
class PackagingIT {
    static final String INSTALLED_LAUNCHER = "/opt/epoll-proxy/bin/epoll-proxy";
    static final String INSTALLED_JAR = "/opt/epoll-proxy/epoll-proxy.jar";

    /** The repository root: the jar is at java/target/epoll-proxy.jar. */
    static Path root() {
        return JarProcess.jar().toAbsolutePath().getParent().getParent().getParent();
    }

    static String read(String path) throws Exception {
        return Files.readString(root().resolve(path));
    }

    static String help() {
        return help("--help");
    }

    static String help(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
        assertEquals(0, Main.run(args, ps, ps));
        return out.toString(StandardCharsets.UTF_8);
    }

    /**
     * Every --option after "epoll-proxy " or "EPOLL_PROXY_ARGS=" on a line of {@code text} must be one --help lists
     * (or, after "epoll-proxy ctl", one that ctl --help lists).
     */
    static void optionsExist(String text, String where) {
        String help = help() + help("ctl", "--help");
        StringBuilder ours = new StringBuilder();
        for (String line : text.split("\n")) {
            // the command runs to the end of the line, or of its `code span`
            Matcher run = Pattern.compile("(epoll-proxy |EPOLL_PROXY_ARGS=)([^`]*)").matcher(line);
            if (run.find()) ours.append(run.group(2)).append('\n');
        }
        Matcher m = Pattern.compile("(?<![\\w-])--[a-z][a-z-]+").matcher(ours);
        int seen = 0;
        while (m.find()) {
            String opt = m.group();
            assertTrue(help.contains(opt + " ") || help.contains(opt + "="), where + " uses " + opt + ", which --help does not list");
            seen++;
        }
        assertTrue(seen > 0, "no option found in " + where);
    }

    @Test
    void theUnitRunsTheInstalledLauncherAndJarWithItsHardening() throws Exception {
        String unit = read("packaging/epoll-proxy.service");
        assertTrue(unit.contains("ExecStart=" + INSTALLED_LAUNCHER + " $EPOLL_PROXY_ARGS"), unit);
        assertTrue(unit.contains("Environment=EPOLL_PROXY_JAR=" + INSTALLED_JAR));
        for (String line : List.of("Restart=on-failure", "ExecReload=/bin/kill -HUP $MAINPID", "NoNewPrivileges=yes",
                "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "DynamicUser=yes",
                "CapabilityBoundingSet=CAP_NET_BIND_SERVICE", "AmbientCapabilities=CAP_NET_BIND_SERVICE",
                "LimitNOFILE=65536", "RestartPreventExitStatus=2")) {
            assertTrue(unit.lines().anyMatch(line::equals), "the unit has " + line);
        }
        assertTrue(unit.lines().noneMatch(l -> l.startsWith("MemoryDenyWriteExecute=yes")), "the JIT needs W+X memory");
        optionsExist(unit, "the unit");
    }

    @Test
    void theContainerfileCopiesWhatTheBuildMakesAndRunsAsNonRoot() throws Exception {
        String cf = read("packaging/Containerfile");
        assertTrue(cf.contains("COPY java/target/epoll-proxy.jar " + INSTALLED_JAR), cf);
        assertTrue(cf.contains("COPY bin/epoll-proxy " + INSTALLED_LAUNCHER));
        // next to the jar, named as the launcher looks for it (the jar's name without .jar, then -native)
        assertTrue(cf.contains("COPY java/target/epoll-proxy-native " + INSTALLED_JAR.replace(".jar", "-native")), cf);
        assertTrue(cf.contains("ENV EPOLL_PROXY_JAR=" + INSTALLED_JAR));
        assertTrue(cf.lines().anyMatch(l -> l.matches("USER [1-9][0-9]*")), "a numeric non-root USER");
        assertTrue(cf.lines().anyMatch(l -> l.startsWith("EXPOSE ")));
        assertTrue(cf.contains("/healthz"));
        optionsExist(cf, "the Containerfile");
        assertTrue(Files.isRegularFile(root().resolve("bin/epoll-proxy")));
    }

    @Test
    void systemdAnalyzeVerifiesTheUnit() throws Exception {
        Path analyze = Path.of(ThirdParty.require("systemd-analyze", "systemd"));
        // verify checks that ExecStart exists: point it at this checkout's launcher instead of /opt.
        Path dir = Files.createTempDirectory("unit");
        Path unit = dir.resolve("epoll-proxy.service");
        Files.writeString(unit, read("packaging/epoll-proxy.service")
                .replace(INSTALLED_LAUNCHER, root().resolve("bin/epoll-proxy").toString()));
        Process p = new ProcessBuilder(analyze.toString(), "verify", unit.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertEquals("", out.strip(), "no warnings");
        Files.delete(unit);
        Files.delete(dir);
    }

    @Test
    void theImagesHealthCheckPassesAgainstARunningProxyAndFailsWithout() throws Exception {
        String cf = read("packaging/Containerfile");
        Matcher m = Pattern.compile("CMD \\[\"bash\", \"-c\", \"(.*)\"\\]").matcher(cf);
        assertTrue(m.find(), "a bash HEALTHCHECK in exec form");
        String script = m.group(1).replace("\\\\", "\\"); // JSON string -> the text bash gets
        int port = Ports.free();
        try (JarProcess proxy = new JarProcess("-L", "0:127.0.0.1:9", "--stats", Integer.toString(port))) {
            proxy.nextLine(); // listening tcp ...
            assertTrue(proxy.nextLine().startsWith("listening http 127.0.0.1:" + port));
            assertEquals(0, bash(script.replace("9100", Integer.toString(port))), "healthy");
        }
        assertNotEquals(0, bash(script.replace("9100", Integer.toString(port))), "nothing listens: unhealthy");
    }

    /** The unit's stop timeout exceeds the drain it asks for, and the socket unit passes what the unit forwards. */
    @Test
    void theUnitWaitsLongerThanTheDrainAndTheSocketUnitVerifies() throws Exception {
        String unit = read("packaging/epoll-proxy.service");
        Matcher drain = Pattern.compile("--drain-timeout (\\d+)").matcher(unit);
        assertTrue(drain.find(), "the unit sets --drain-timeout");
        Matcher stop = Pattern.compile("(?m)^TimeoutStopSec=(\\d+)$").matcher(unit);
        assertTrue(stop.find());
        assertTrue(Integer.parseInt(stop.group(1)) > Integer.parseInt(drain.group(1)) + 5, "TimeoutStopSec > drain + the JVM's exit");
        assertTrue(unit.lines().anyMatch("KillSignal=SIGTERM"::equals));
        String socket = read("packaging/epoll-proxy.socket");
        assertTrue(socket.contains("ListenStream=0.0.0.0:8080") && unit.contains("-L 0.0.0.0:8080:"), "the socket is the unit's forward");
        Path analyze = Path.of(ThirdParty.require("systemd-analyze", "systemd"));
        Path dir = Files.createTempDirectory("unit");
        Files.writeString(dir.resolve("epoll-proxy.service"), unit.replace(INSTALLED_LAUNCHER, root().resolve("bin/epoll-proxy").toString()));
        Files.writeString(dir.resolve("epoll-proxy.socket"), socket);
        Process p = new ProcessBuilder(analyze.toString(), "verify", dir.resolve("epoll-proxy.socket").toString(),
                dir.resolve("epoll-proxy.service").toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertEquals("", out.strip(), "no warnings");
    }

    /** The Kubernetes manifests parse (python3 + PyYAML when present) and wire the drain as docs/service.md says. */
    @Test
    void theKubernetesDeploymentDrainsWithinItsGracePeriod() throws Exception {
        String d = read("packaging/kubernetes/deployment.yaml");
        int grace = Integer.parseInt(field(d, "terminationGracePeriodSeconds: (\\d+)"));
        int drain = Integer.parseInt(field(d, "- \"--drain-timeout\"\\s+- \"(\\d+)\""));
        int preStop = Integer.parseInt(field(d, "sleep:\\s+seconds: (\\d+)"));
        assertTrue(grace > preStop + drain + 5, "terminationGracePeriodSeconds " + grace + " > preStop + drain + exit");
        assertTrue(d.matches("(?s).*readinessProbe:\\s+httpGet:\\s+path: /healthz.*"), "readiness on /healthz");
        assertTrue(d.matches("(?s).*livenessProbe:\\s+httpGet:\\s+path: /livez.*"), "liveness on /livez, which a drain does not fail");
        assertTrue(read("packaging/kubernetes/service.yaml").contains("app: epoll-proxy"));
        // Debian's python3 when there, the one bin/setup gives PyYAML (python3-yaml); else the PATH's.
        String python = Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : ThirdParty.require("python3", "python3");
        Process p = new ProcessBuilder(python, "-c", "import sys, yaml\nfor f in sys.argv[1:]: list(yaml.safe_load_all(open(f)))\nprint('ok')",
                root().resolve("packaging/kubernetes/deployment.yaml").toString(), root().resolve("packaging/kubernetes/service.yaml").toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        if (out.contains("No module named")) ThirdParty.missing("PyYAML (" + out.strip() + ")", "python3-yaml");
        assertEquals("ok", out.strip(), out);
    }

    private static String field(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertTrue(m.find(), "no " + regex);
        return m.group(1);
    }

    private static int bash(String script) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("bash", "-c", script));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        return p.exitValue();
    }

    /**
     * packaging/cds-archive.sh ends even when its training run does not stop on SIGTERM (a JVM started with
     * SIGTERM ignored installs no handler for it): `mvn package` waited on it forever. A stand-in for java
     * (python3) plays the training run that ignores SIGTERM, and the dump; the script must kill it and go on.
     */
    @Test
    void theArchiveScriptEndsWhenTheTrainingRunIgnoresSigterm(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path fakeJava = tmp.resolve("java");
        Files.writeString(fakeJava, String.join("\n",
                "#!/usr/bin/env python3",
                "import signal, socket, sys, time",
                "args = sys.argv[1:]",
                "for a in args:",
                "    if a.startswith('-XX:SharedArchiveFile='):  # the dump",
                "        open(a.split('=', 1)[1], 'w').write('archive'); sys.exit(0)",
                "for a in args:",
                "    if a.startswith('-XX:DumpLoadedClassList='): open(a.split('=', 1)[1], 'w').write('java/lang/Object\\n')",
                "signal.signal(signal.SIGTERM, signal.SIG_IGN)",
                "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)",
                "print('listening tcp 127.0.0.1:%d -> 127.0.0.1:1' % s.getsockname()[1], flush=True)",
                "c, _ = s.accept(); c.recv(100)",
                "print('end=refused', flush=True)",
                "time.sleep(120)", "")); // bounded, and killed with the script's children below
        assertTrue(fakeJava.toFile().setExecutable(true));
        Path archive = tmp.resolve("out.jsa");
        ProcessBuilder pb = new ProcessBuilder("bash", root().resolve("packaging/cds-archive.sh").toString(),
                fakeJava.toString(), JarProcess.jar().toString(), archive.toString())
                .redirectErrorStream(true).redirectOutput(tmp.resolve("out.txt").toFile()); // a file: no pipe to block on
        pb.environment().put("CDS_TRAINING_STOP_S", "1");
        Process script = pb.start();
        try {
            boolean ended = script.waitFor(60, TimeUnit.SECONDS);
            String out = Files.readString(tmp.resolve("out.txt"));
            assertTrue(ended, "still running after 60 s: " + out);
            assertEquals(0, script.exitValue(), out);
            assertTrue(out.contains("cds-archive: the training run did not stop within 1 s of SIGTERM; killed"), out);
            assertTrue(Files.isRegularFile(archive), out);
        } finally {
            script.descendants().forEach(ProcessHandle::destroyForcibly);
            script.destroyForcibly();
        }
    }
}
