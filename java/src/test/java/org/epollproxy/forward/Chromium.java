package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Headless Chromium for the status page's tests: each run gets a fresh profile directory, no network beyond
 * the page's own, and a bounded time. Debian's {@code chromium-headless-shell} (the old headless mode, Blink
 * without the browser's profile services) when it is there: it renders the same page from the same engine
 * in about a third of the CPU and wall time of {@code chromium --headless}, which starts the whole browser
 * (sync, policies, extensions, D-Bus probes) for each page. Missing both, it fails the test under CI=true
 * and skips it with a message elsewhere.
 */
final class Chromium {
    /** Virtual time the page may run its scripts for before the DOM or screenshot is taken. */
    static final int VIRTUAL_TIME_MS = 5000;
    private static final long RUN_SECONDS = 120;

    private final String program;

    private Chromium(String program) {
        this.program = program;
    }

    static Chromium require() {
        for (String name : List.of("chromium-headless-shell", "chromium", "chromium-browser")) {
            for (String dir : (System.getenv("PATH") + ":/usr/bin").split(":")) {
                File f = new File(dir, name);
                if (f.canExecute()) return new Chromium(f.getPath());
            }
        }
        String why = "chromium is not installed (Debian package chromium-headless-shell; bin/setup installs it)";
        if ("true".equals(System.getenv("CI"))) fail(why);
        assumeTrue(false, why + ": browser test skipped");
        return null;
    }

    /** The DOM of {@code url} after its scripts ran for {@link #VIRTUAL_TIME_MS} of virtual time. */
    String dumpDom(String url) throws IOException, InterruptedException {
        return run(List.of("--dump-dom", url));
    }

    /**
     * The DOM of {@code url} as {@link #dumpDom} returns it, and a 1280x900 PNG of the same page written to
     * {@code png}: one browser start for both (a start is most of a run's time).
     */
    String dumpDomAndScreenshot(String url, Path png) throws IOException, InterruptedException {
        Files.createDirectories(png.toAbsolutePath().getParent());
        Files.deleteIfExists(png);
        String dom = run(List.of("--window-size=1280,900", "--dump-dom", "--screenshot=" + png.toAbsolutePath(), url));
        if (!Files.isRegularFile(png)) throw new AssertionError("chromium wrote no screenshot to " + png);
        return dom;
    }

    private String run(List<String> what) throws IOException, InterruptedException {
        Path profile = Files.createTempDirectory("epollproxy-chromium");
        Path err = Files.createTempFile("epollproxy-chromium", ".err");
        Path out = Files.createTempFile("epollproxy-chromium", ".out");
        try {
            List<String> cmd = new ArrayList<>(List.of(program, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--user-data-dir=" + profile, "--virtual-time-budget=" + VIRTUAL_TIME_MS));
            cmd.addAll(what);
            // stdout to a file too: a chromium that hangs is then ended by the timeout, not waited on by a read
            Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).redirectOutput(out.toFile()).start();
            try {
                if (!p.waitFor(RUN_SECONDS, TimeUnit.SECONDS)) throw new AssertionError("chromium still running after " + RUN_SECONDS + " s");
            } finally {
                if (p.isAlive()) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly); // its renderer and helpers: started by it, for us
                    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
            if (p.exitValue() != 0) {
                throw new AssertionError("chromium exited with " + p.exitValue() + ":\n" + Files.readString(err));
            }
            return Files.readString(out, StandardCharsets.UTF_8);
        } finally {
            Files.deleteIfExists(err);
            Files.deleteIfExists(out);
            try (Stream<Path> s = Files.walk(profile)) {
                s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }
}
