package org.epollproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Debian package of {@code mvn -Pdist,deb package}: lintian finds no error, and unpacked into a
 * scratch root its launcher runs on the package's own Java runtime. Slow (lintian, a JVM on the jlinked
 * runtime), so it runs only when asked: {@code mvn -B -pl java -Pdist,deb verify -Ddeb.test ...}.
 */
class DebPackageIT {
    record Run(int status, String output) {}

    static Run run(List<String> cmd, Path dir) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        if (dir != null) pb.directory(dir.toFile());
        pb.environment().remove("JAVA_HOME"); // the package's runtime, not the JDK running the tests
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), cmd + " finished");
        return new Run(p.exitValue(), out);
    }

    static Path deb() throws IOException {
        Assumptions.assumeTrue(System.getProperty("deb.test") != null, "-Ddeb.test runs the package test");
        Path target = JarProcess.jar().toAbsolutePath().getParent();
        try (Stream<Path> s = Files.list(target)) {
            List<Path> debs = s.filter(p -> p.getFileName().toString().matches("epoll-proxy_.+_.+\\.deb")).toList();
            assertEquals(1, debs.size(), "mvn -Pdist,deb package made one package in " + target + ": " + debs);
            return debs.get(0);
        }
    }

    @Test
    void lintianFindsNoError() throws Exception {
        Path deb = deb();
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/lintian")), "lintian is not installed");
        Run r = run(List.of("lintian", "--no-tag-display-limit", deb.toString()), null);
        List<String> errors = r.output().lines().filter(l -> l.startsWith("E: ")).toList();
        assertEquals(List.of(), errors, r.output());
    }

    @Test
    void theInstalledLauncherRunsOnTheBundledRuntime(@TempDir Path root) throws Exception {
        Path deb = deb();
        assertEquals(0, run(List.of("dpkg-deb", "-x", deb.toString(), root.toString()), null).status());
        Path launcher = root.resolve("usr/bin/epoll-proxy");
        assertTrue(Files.isSymbolicLink(launcher), "/usr/bin/epoll-proxy links to the launcher");
        assertTrue(Files.isExecutable(root.resolve("usr/lib/epoll-proxy/runtime/bin/java")), "the jlinked runtime");
        Run version = run(List.of(launcher.toString(), "--version"), root);
        assertEquals(0, version.status(), version.output());
        assertTrue(version.output().startsWith("epoll-proxy " + deb.getFileName().toString().split("_")[1]), version.output());
        for (String f : List.of("lib/systemd/system/epoll-proxy.service", "lib/systemd/system/epoll-proxy.socket",
                "etc/epoll-proxy.conf", "usr/share/man/man1/epoll-proxy.1.gz",
                "usr/share/bash-completion/completions/epoll-proxy", "usr/share/zsh/vendor-completions/_epoll-proxy")) {
            assertTrue(Files.isRegularFile(root.resolve(f)), f);
        }
        String unit = Files.readString(root.resolve("lib/systemd/system/epoll-proxy.service"));
        assertTrue(unit.contains("ExecStart=/usr/bin/epoll-proxy $EPOLL_PROXY_ARGS"), unit);
        assertFalse(unit.contains("/opt/"), "no /opt path in the package's unit");
        if (Files.isExecutable(Path.of("/usr/bin/systemd-analyze"))) {
            // verify checks that ExecStart exists: point it at the unpacked launcher.
            Path units = Files.createDirectories(root.resolve("verify"));
            Files.writeString(units.resolve("epoll-proxy.service"), unit.replace("/usr/bin/epoll-proxy", launcher.toString()));
            Files.copy(root.resolve("lib/systemd/system/epoll-proxy.socket"), units.resolve("epoll-proxy.socket"));
            Run verify = run(List.of("systemd-analyze", "verify", units.resolve("epoll-proxy.socket").toString(),
                    units.resolve("epoll-proxy.service").toString()), null);
            assertEquals(0, verify.status(), verify.output());
            assertEquals("", verify.output().strip(), "no warnings about the package's units");
        }
        Run control = run(List.of("dpkg-deb", "-f", deb.toString(), "Package", "Depends"), null);
        assertTrue(control.output().contains("Package: epoll-proxy"), control.output());
        Run conffiles = run(List.of("dpkg-deb", "--ctrl-tarfile", deb.toString()), null);
        assertTrue(conffiles.output().contains("conffiles"), "the default config is a conffile");
        // The default config the unit reads parses: its one forward is found, and refused only as a duplicate of -L.
        Run check = run(List.of(launcher.toString(), "--config", root.resolve("etc/epoll-proxy.conf").toString(),
                "-L", "127.0.0.1:8080:127.0.0.1:80"), root);
        assertEquals(2, check.status(), check.output());
        assertTrue(check.output().contains("tcp 127.0.0.1:8080 is already forwarded by -L"), check.output());
    }
}
