package org.epollproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.epollproxy.Ports;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 27: every class a start loads costs idle RSS (its metadata, and its share of the class archive, which
 * the JVM relocates and so touches whole). A plain forward, with one connection logged, loads none of the
 * JDK subsystems it has no use for; the build's archive holds no class of a path the launcher never takes.
 */
class IdleFootprintIT {

    /** Packages a plain forward has no use for, and what used to load them. */
    private static final List<String> UNWANTED = List.of(
            "java.time.format.", // LogTime's DateTimeFormatter, at the first log line
            "sun.util.locale.provider.", "java.text.DecimalFormatSymbols", // jffi's String.format in the C locale
            "java.sql.", // picocli's converters for types no option takes
            "java.util.stream.IntPipeline"); // chars().allMatch(...) for the digits of a port or a size

    @Test
    void aPlainForwardLoadsNoDateFormatterNoLocaleDataNoSqlTypes(@TempDir Path dir) throws Exception {
        // The class lists below are JDK 17's (the build's JDK, whose archive the launcher maps); JDK 25 loads
        // the locale provider on another path, not yet trimmed (bench/RESULTS.md, the class diet).
        assumeTrue(Runtime.version().feature() == 17, "the class lists are JDK 17's; this JVM is " + Runtime.version());
        Path log = dir.resolve("classes.log");
        int refused = Ports.free(); // nothing listens there: the connection ends at once, and is logged
        try (JarProcess p = new JarProcess(List.of("-Xlog:class+load=info:file=" + log),
                "-L", "127.0.0.1:0:127.0.0.1:" + refused)) {
            String listening = p.nextLine();
            assertTrue(listening.startsWith("listening tcp 127.0.0.1:"), listening);
            int port = Integer.parseInt(listening.replaceAll("listening tcp 127\\.0\\.0\\.1:(\\d+) .*", "$1"));
            try (Socket client = new Socket(InetAddress.getLoopbackAddress(), port)) {
                client.setSoTimeout((int) TimeUnit.SECONDS.toMillis(30));
                try (InputStream in = client.getInputStream()) {
                    in.read(); // the proxy closes it when the backend refuses
                } catch (java.net.SocketException reset) {
                    // or resets it: either way the connection ended
                }
            }
            p.awaitStderr(" end=");
            p.signal("TERM");
            assertEquals(0, p.exitCode(60), p.stderr());
        }
        List<String> unwanted = new ArrayList<>();
        List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        for (String line : lines) {
            String[] words = line.split(" ");
            if (words.length < 2) continue;
            String cls = words[1];
            for (String u : UNWANTED) if (cls.startsWith(u)) unwanted.add(cls);
        }
        assertTrue(lines.stream().anyMatch(l -> l.contains(" org.epollproxy.forward.LogTime ")),
                "the log shows the classes loaded (LogTime among them): " + lines.size() + " lines");
        assertEquals(List.of(), unwanted, "classes a plain forward has no use for");
    }

    @Test
    void theBuildsArchiveHoldsNothingOfTheTemporaryCopyOfTheNativeLibraries() throws Exception {
        Path archive = JarProcess.archive();
        // The package phase does not fail when packaging/cds-archive.sh does (the proxy runs without an
        // archive), so a build that silently lost it shows here: every start of the jar then costs twice the CPU.
        assumeTrue(!Boolean.getBoolean("epollproxy.cds.skip"), "the build was told to leave the archive out (-Dcds.skip)");
        assertTrue(Files.isRegularFile(archive), "mvn package made no class archive " + archive
                + ": see the lines of packaging/cds-archive.sh in the build's output");
        // -XX:+PrintSharedDictionary lists the archive's classes up to JDK 21; JDK 22+ has no such flag.
        assumeTrue(Runtime.version().feature() < 22, "no -XX:+PrintSharedDictionary on JDK " + Runtime.version().feature());
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process list = new ProcessBuilder(java.toString(), "-XX:+UseSerialGC", "-Xmx256m",
                "-XX:SharedArchiveFile=" + archive, "-XX:+PrintSharedArchiveAndExit", "-XX:+PrintSharedDictionary",
                "-cp", JarProcess.jar().toString()).redirectErrorStream(true).start();
        String out = new String(list.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(list.waitFor(60, TimeUnit.SECONDS), "listing the archive took over 60 s");
        assertTrue(out.contains("org.epollproxy.forward.LogTime"), "the listing shows the archive's classes:\n" + out);
        // The launcher passes the copies next to the jar (-Depollproxy.native), so it never extracts them
        // into a temporary directory: the archive's training run must not either.
        for (String cls : List.of("java.nio.file.TempFileHelper", "java.security.SecureRandom ")) {
            assertTrue(!out.contains(cls), cls.trim() + " is in the archive, from a path the launcher never takes");
        }
    }
}
