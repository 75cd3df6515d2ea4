package org.epollproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/epoll-proxy before its {@code exec}: the JDK's version comes from its {@code release} file (no
 * second JVM at every start), and the class data sharing archive is used when it fits this JVM and left
 * out quietly when it does not.
 */
class LauncherIT {
    static Path launcher() {
        return PackagingIT.root().resolve("bin/epoll-proxy");
    }

    record Run(int exit, String out, String err) {}

    static Run run(Map<String, String> env, String... args) throws Exception {
        return runWithout(List.of(), env, args);
    }

    /** {@link #run} with the named variables of this JVM's environment taken away. */
    static Run runWithout(List<String> unset, Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("/bin/bash", launcher().toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        unset.forEach(pb.environment()::remove);
        pb.environment().remove("JAVA_OPTS");
        pb.environment().remove("EPOLL_PROXY_CDS_ARCHIVE");
        pb.environment().put("EPOLL_PROXY_JAR", JarProcess.jar().toAbsolutePath().toString());
        // a JDK without the build's archive makes its own at exit: never in the user's ~/.cache from a test
        pb.environment().put("EPOLL_PROXY_CACHE_DIR", Files.createTempDirectory("launcher-cache").toString());
        pb.environment().putAll(env);
        Path out = Files.createTempFile("launcher", ".out");
        Path err = Files.createTempFile("launcher", ".err");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "launcher did not finish in 60 s");
        Run r = new Run(p.exitValue(), Files.readString(out), Files.readString(err));
        Files.delete(out);
        Files.delete(err);
        return r;
    }

    /** A JAVA_HOME whose bin/java records each invocation's arguments, one line each, and exits 0. */
    static Path fakeJdk(Path dir, String version) throws Exception {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Files.writeString(dir.resolve("release"), "IMPLEMENTOR=\"test\"\nJAVA_VERSION=\"" + version + "\"\n");
        Path java = bin.resolve("java");
        Files.writeString(java, "#!/bin/sh\necho \"$*\" >>\"" + dir.resolve("calls") + "\"\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        return dir;
    }

    @Test
    void readsTheVersionFromTheReleaseFileAndStartsOneJvm(@TempDir Path tmp) throws Exception {
        Path jdk25 = fakeJdk(tmp.resolve("jdk25"), "25.0.1");
        assertEquals(0, run(Map.of("JAVA_HOME", jdk25.toString()), "--version").exit());
        List<String> calls = Files.readAllLines(jdk25.resolve("calls"));
        assertEquals(1, calls.size(), "one JVM per start, got: " + calls);
        assertTrue(calls.get(0).contains("--sun-misc-unsafe-memory-access=allow"), calls.get(0));
        assertTrue(calls.get(0).endsWith("--version"), calls.get(0));

        Path jdk17 = fakeJdk(tmp.resolve("jdk17"), "17.0.9");
        assertEquals(0, run(Map.of("JAVA_HOME", jdk17.toString()), "--version").exit());
        calls = Files.readAllLines(jdk17.resolve("calls"));
        assertEquals(1, calls.size(), "one JVM per start, got: " + calls);
        assertFalse(calls.get(0).contains("--sun-misc-unsafe-memory-access"), "JDK 17 rejects that flag: " + calls.get(0));
    }

    @Test
    void trimsTheCHeapPeriodicallyWhereTheJdkKnowsTheFlag(@TempDir Path tmp) throws Exception {
        // -XX:TrimNativeHeapInterval gives back what the JIT's arenas freed (5-6 MB of an idle proxy's RSS);
        // a JDK that does not know the flag would refuse to start, so only where it is known.
        Map<String, Boolean> expected = Map.of("25.0.1", true, "22", true, "17.0.15", true, "17.0.9", false, "21.0.4", false);
        for (Map.Entry<String, Boolean> e : expected.entrySet()) {
            Path jdk = fakeJdk(tmp.resolve("jdk-" + e.getKey()), e.getKey());
            assertEquals(0, run(Map.of("JAVA_HOME", jdk.toString()), "--version").exit());
            String call = Files.readAllLines(jdk.resolve("calls")).get(0);
            assertEquals(e.getValue(), call.contains("-XX:TrimNativeHeapInterval=5000"), e.getKey() + ": " + call);
        }
        // JAVA_OPTS replaces the default flags, this one too.
        Path jdk = fakeJdk(tmp.resolve("jdk-opts"), "25.0.1");
        assertEquals(0, run(Map.of("JAVA_HOME", jdk.toString(), "JAVA_OPTS", "-Xmx1g"), "--version").exit());
        assertFalse(Files.readAllLines(jdk.resolve("calls")).get(0).contains("TrimNativeHeapInterval"));
    }

    @Test
    void runsNoOtherProgramBeforeTheJvm(@TempDir Path tmp) throws Exception {
        // Each program the script runs before exec costs a fork and an exec (5-10 ms here, six of them
        // cost 0.03-0.05 s of every start). With JAVA_HOME set it needs none: on a PATH with no
        // programs at all (no dirname, readlink, sed) it must still reach the JVM with the right flags.
        Path jdk = fakeJdk(tmp.resolve("jdk25"), "25.0.1");
        Path noPrograms = Files.createDirectories(tmp.resolve("empty-path"));
        Run r = run(Map.of("JAVA_HOME", jdk.toString(), "PATH", noPrograms.toString()), "--version");
        assertEquals(0, r.exit(), r.err());
        assertEquals("", r.err());
        List<String> calls = Files.readAllLines(jdk.resolve("calls"));
        assertEquals(1, calls.size(), "one JVM per start, got: " + calls);
        assertTrue(calls.get(0).contains("--sun-misc-unsafe-memory-access=allow"), "the version was read: " + calls.get(0));
    }

    @Test
    void withoutAJavaRuntimeItSaysSoAndExits1(@TempDir Path tmp) throws Exception {
        // No JAVA_HOME and no java on PATH: one line that says what to install, not bash's "exec: not found".
        Path noPrograms = Files.createDirectories(tmp.resolve("empty-path"));
        Run r = runWithout(List.of("JAVA_HOME"), Map.of("PATH", noPrograms.toString()), "--version");
        assertEquals(1, r.exit(), r.err());
        assertTrue(r.err().startsWith("epoll-proxy: no Java runtime") && r.err().contains("JAVA_HOME"), r.err());

        Run bad = run(Map.of("JAVA_HOME", tmp.resolve("no-jdk").toString()), "--version");
        assertEquals(1, bad.exit(), bad.err());
        assertTrue(bad.err().contains(tmp.resolve("no-jdk/bin/java").toString()), "names the java it looked for: " + bad.err());
    }

    @Test
    void loadsTheNativeLibrariesFromFilesNextToTheJarSoATmpItCannotUseDoesNotMatter(@TempDir Path tmp) throws Exception {
        // packaging/native-libs.sh puts the shim and libjffi next to the jar (mvn package does it for
        // java/target); the launcher passes the directory, the proxy loads them from there and extracts
        // nothing: a temporary directory it cannot use (here: missing; on servers: mounted noexec) no
        // longer stops the start. In a directory with a space, which must stay one argument.
        Path dir = Files.createDirectories(tmp.resolve("with space"));
        Path jar = Files.copy(JarProcess.jar(), dir.resolve("epoll-proxy.jar"));
        Path libs = dir.resolve("epoll-proxy-native");
        Process make = new ProcessBuilder("bash", PackagingIT.root().resolve("packaging/native-libs.sh").toString(),
                System.getProperty("java.home") + "/bin/java", jar.toString(), libs.toString())
                .redirectErrorStream(true).start();
        String makeOut = new String(make.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(make.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, make.exitValue(), makeOut);

        // A forward whose bind fails (a UNIX socket in a missing directory): the shim is loaded, then bind
        // says ENOENT. Reaching that error is the proof the shim loaded. Where both libraries would be
        // extracted to is missing (jffi falls back to the working directory unless told where, so it is).
        String spec = tmp.resolve("missing/app.sock") + ":127.0.0.1:9";
        Path noTmp = tmp.resolve("no-such-tmp");
        // EPOLL_PROXY_CDS_ARCHIVE="": on JDK 25 the first start would otherwise make the ahead-of-time cache,
        // a training run of several CPU-seconds that is not what this test is about (on a loaded machine it
        // took the launcher past the 60 s below). The copied jar has no class data archive beside it anyway.
        Map<String, String> env = Map.of("JAVA_HOME", System.getProperty("java.home"), "EPOLL_PROXY_JAR", jar.toString(),
                "EPOLL_PROXY_CDS_ARCHIVE", "",
                "JAVA_EXTRA_OPTS", "-Djava.io.tmpdir=" + noTmp + " -Djffi.extract.dir=" + noTmp);
        Run r = run(env, "-L", spec);
        assertEquals(1, r.exit(), r.err());
        assertTrue(r.err().contains("No such file or directory") && !r.err().contains("cannot extract"), r.err());

        // Libraries of another build (here: one byte more) are not used, whatever their time stamps:
        // the start extracts the jar's own (and here fails, with no temporary directory).
        for (String lib : List.of("libepollshim.so", "libjffi-1.2.so")) {
            Path f = libs.resolve(lib);
            byte[] good = Files.readAllBytes(f);
            Files.write(f, new byte[] {0}, java.nio.file.StandardOpenOption.APPEND);
            Run other = run(env, "-L", spec);
            assertEquals(1, other.exit(), other.err());
            assertTrue(other.err().contains("cannot extract the epoll shim"), lib + " of another build was used: " + other.err());
            Files.write(f, good);
        }
    }

    @Test
    void theBuildPutsTheNativeLibrariesNextToTheJar() throws Exception {
        // mvn package runs packaging/native-libs.sh (java/pom.xml); the Containerfile copies its output.
        Path libs = JarProcess.jar().resolveSibling("epoll-proxy-native");
        assertTrue(Files.isRegularFile(libs.resolve("libepollshim.so")), libs + " has no libepollshim.so");
        assertTrue(Files.isRegularFile(libs.resolve("libjffi-1.2.so")), libs + " has no libjffi-1.2.so");
    }

    @Test
    void usesTheArchiveThatFitsAndQuietlyIgnoresOneThatDoesNot(@TempDir Path tmp) throws Exception {
        String javaHome = System.getProperty("java.home");
        String version = System.getProperty("java.version");
        Path jar = JarProcess.jar().toAbsolutePath();
        Path archive = tmp.resolve("app.jsa");
        Path built = JarProcess.archive();
        if (Files.isRegularFile(built)) {
            // The archive mvn package made with packaging/cds-archive.sh, copied: this test changes its time.
            Files.copy(built, archive);
        } else { // -Dcds.skip, or the script failed at package time: make one, and show why if it fails
            Process dump = new ProcessBuilder("bash", PackagingIT.root().resolve("packaging/cds-archive.sh").toString(),
                    javaHome + "/bin/java", jar.toString(), archive.toString())
                    .redirectErrorStream(true).start();
            String dumpOut = new String(dump.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(dump.waitFor(120, TimeUnit.SECONDS));
            assertEquals(0, dump.exitValue(), dumpOut);
        }

        // The archive fits: the proxy's classes come from it (JAVA_OPTS replaces only the heap flags).
        Map<String, String> env = Map.of("JAVA_HOME", javaHome, "EPOLL_PROXY_CDS_ARCHIVE", archive.toString(),
                "JAVA_OPTS", "-XX:+UseSerialGC -Xmx256m -Xlog:class+load:stdout");
        Run fits = run(env, "--version");
        assertEquals(0, fits.exit(), fits.err());
        assertTrue(fits.out().matches("(?s).*org\\.epollproxy\\.cli\\.Main source: shared objects file.*"), fits.out());

        // The same archive, but older than the jar (made from an earlier build): left out, not tried.
        Files.setLastModifiedTime(archive, java.nio.file.attribute.FileTime.fromMillis(
                Files.getLastModifiedTime(jar).toMillis() - 86_400_000L));
        Run stale = run(env, "--version");
        assertEquals(0, stale.exit(), stale.err());
        assertFalse(stale.out().matches("(?s).*org\\.epollproxy\\.cli\\.Main source: shared objects file.*"),
                "an archive older than the jar is not used");

        // A file that is no archive for this JVM (here: not one at all): same output, no warning.
        Path bad = tmp.resolve("other-jdk.jsa");
        Files.writeString(bad, "not an archive of JDK " + version);
        Run quiet = run(Map.of("JAVA_HOME", javaHome, "EPOLL_PROXY_CDS_ARCHIVE", bad.toString()), "--version");
        assertEquals(0, quiet.exit(), quiet.err());
        assertTrue(quiet.out().startsWith("epoll-proxy "), quiet.out());
        assertEquals("", quiet.err());
    }

    @Test
    void anotherJdkMakesItsOwnArchiveAtTheFirstExitAndMapsItFromTheSecondStart(@TempDir Path tmp) throws Exception {
        // The build's archive fits only the JDK that ran Maven; with another (JDK 19+), the first run
        // leaves an archive in the cache directory and the next start maps the proxy's classes from it.
        // The jar runs from a copy beside which the build left no archive: so JDK 25 is "another JDK"
        // whichever JDK ran Maven (on a suite run on JDK 25 the other one, 17, cannot make archives).
        Path jdk = Path.of("/usr/lib/jvm/temurin-25-jdk-amd64");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(jdk.resolve("bin/java")),
                jdk + " is not installed: no JDK 19+ to start the jar with");
        Path jar = Files.copy(JarProcess.jar(), tmp.resolve("epoll-proxy.jar"));
        Path cache = tmp.resolve("cache");
        Map<String, String> env = Map.of("JAVA_HOME", jdk.toString(), "EPOLL_PROXY_CACHE_DIR", cache.toString(), "EPOLL_PROXY_JAR", jar.toString(),
                "JAVA_EXTRA_OPTS", "-Xlog:class+load=info:file=" + tmp.resolve("classes.log"));
        Run first = run(env, "--version");
        assertEquals(0, first.exit(), first.err());
        try (var files = Files.list(cache)) {
            List<Path> made = files.toList();
            assertEquals(1, made.size(), "one archive in " + cache + ": " + made);
            assertTrue(made.get(0).getFileName().toString().matches("epoll-proxy-jdk25[0-9.]*\\.jsa"), made.toString());
        }
        Run second = run(env, "--version");
        assertEquals(0, second.exit(), second.err());
        assertEquals("", second.err(), "the archive is used quietly");
        assertTrue(Files.readString(tmp.resolve("classes.log"))
                        .matches("(?s).*org\\.epollproxy\\.cli\\.Main source: shared objects file \\(top\\).*"),
                "the second start maps Main from the archive the first one made");
    }
}
