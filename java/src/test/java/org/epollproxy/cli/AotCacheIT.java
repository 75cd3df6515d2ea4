package org.epollproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/epoll-proxy on JDK 25 and later: the ahead-of-time cache is made once by a training run, used from
 * then on, remade when the jar changed, and a cache that does not fit (or a cache directory nobody can
 * write) never stops the proxy. One real training run by default; the launcher's other decisions are
 * checked with a fake JDK, and a second real training run (a new jar) only with {@code -Dslow.tests}.
 */
class AotCacheIT {
    private static final Path JDK25 = Path.of("/usr/lib/jvm/temurin-25-jdk-amd64");

    record Started(String firstLine, String err) {}

    /**
     * Starts the launcher with a forward to a port nothing listens on, waits (at most 3 minutes: a training
     * run on a busy machine) for its listening line, stops it with SIGTERM; its stdout's first line and
     * its stderr.
     */
    static Started startAndStop(Map<String, String> env) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("/bin/bash", LauncherIT.launcher().toString(), "-L", "127.0.0.1:0:127.0.0.1:9", "--quiet");
        pb.environment().remove("JAVA_OPTS");
        pb.environment().remove("EPOLL_PROXY_CDS_ARCHIVE");
        pb.environment().putAll(env);
        Path err = Files.createTempFile("aot", ".err");
        pb.redirectError(err.toFile());
        Process p = pb.start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String[] first = new String[1];
            Thread reader = new Thread(() -> {
                try {
                    first[0] = out.readLine();
                } catch (java.io.IOException e) {
                    first[0] = null;
                }
            });
            reader.start();
            reader.join(TimeUnit.MINUTES.toMillis(3));
            p.destroy(); // SIGTERM: the proxy drains nothing and exits 0
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the proxy did not stop in 60 s");
            reader.join(10_000);
            return new Started(first[0], Files.readString(err));
        } finally {
            p.destroyForcibly();
            Files.delete(err);
        }
    }

    @Test
    void theCacheIsMadeOnceAndUsedAndOneThatDoesNotFitIsIgnored(@TempDir Path tmp) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(JDK25.resolve("bin/java")), JDK25 + " is not installed");
        // A copy of the jar of its own, so this test can change it (its time stamp) without touching the build.
        Path jar = Files.copy(JarProcess.jar(), tmp.resolve("epoll-proxy.jar"));
        Path cache = tmp.resolve("cache");
        Path aot = cache.resolve("epoll-proxy-jdk" + version(JDK25) + ".aot");
        Path classes = tmp.resolve("classes.log");
        Map<String, String> env = Map.of("JAVA_HOME", JDK25.toString(), "EPOLL_PROXY_JAR", jar.toString(),
                "EPOLL_PROXY_CACHE_DIR", cache.toString(), "JAVA_EXTRA_OPTS", "-Xlog:class+load=info:file=" + classes);

        // First start: a training run makes the cache, then the proxy starts with it.
        Started first = startAndStop(env);
        assertTrue(first.firstLine() != null && first.firstLine().startsWith("listening tcp 127.0.0.1:"), first.toString());
        assertTrue(first.err().contains("making the ahead-of-time cache " + aot), first.err());
        assertTrue(Files.size(aot) > 1_000_000, "a cache of some MB: " + Files.size(aot) + "\n" + first.err());
        try (var files = Files.list(cache)) {
            assertEquals(List.of(aot), files.filter(f -> f.toString().endsWith(".aot") || f.toString().endsWith(".tmp")).toList(),
                    "the cache and no temporary file");
        }

        // The training run compiled the forwarding path with C2, and the cache says so: HotSpot keeps, per
        // method, the highest tier its training run reached and trusts it at every later start. A method the
        // training run left in C1 (one second of --warmup was too short for C2) waits in C1's counting tier
        // for 250 times the usual calls (Tier2ProfileDelayFactor) at every start: the forwarding path was
        // compiled by C2 only in the real traffic's first seconds, even after a --warmup auto.
        // The event loop's dispatch, and at least 20 of the proxy's methods in all (a one-second training run
        // gave 5, a --warmup auto one 52): dispatch runs for every event, several per connection, and reaches C2
        // early however busy the machine; a method run once per connection (TcpListener.pair) reaches it too
        // unless the training's warm-up meets its 10-s cap first. Not EventLoop.runOnce, checked here before:
        // it runs once per wait, and a loaded machine batches more events per wait, so at load 8-14 the
        // training run left it in C1 one time in three (bench/results/testtime2-2026-12-05/final-runs.txt)
        // while the count and dispatch still told a --warmup auto training from a one-second one.
        assertTrainedWithC2(jar, cache, 20, "org/epollproxy/loop/EventLoop[L].dispatch(JI)V");

        // A cache the JVM cannot use though it looks fresh (made for another jar: the JVM checks the jar's
        // size and time; here simply not a cache), in a cache directory of its own: the proxy starts without
        // it, without a word. And no cache directory can be made (its parent is a file): no cache, no
        // training, the proxy starts. Neither needs the cache above, so both start beside the second start
        // (three JVM starts waited for as one); the training run above runs alone.
        Path misfitCache = Files.createDirectories(tmp.resolve("misfit-cache"));
        Files.writeString(misfitCache.resolve(aot.getFileName()), "not a cache of this JDK");
        Map<String, String> misfitEnv = Map.of("JAVA_HOME", JDK25.toString(), "EPOLL_PROXY_JAR", jar.toString(),
                "EPOLL_PROXY_CACHE_DIR", misfitCache.toString());
        Path file = Files.writeString(tmp.resolve("a-file"), "");
        Map<String, String> nowhereEnv = Map.of("JAVA_HOME", JDK25.toString(), "EPOLL_PROXY_JAR", jar.toString(),
                "EPOLL_PROXY_CACHE_DIR", file.resolve("cache").toString());
        ExecutorService beside = Executors.newFixedThreadPool(2);
        try {
            Future<Started> misfitRun = beside.submit(() -> startAndStop(misfitEnv));
            Future<Started> nowhereRun = beside.submit(() -> startAndStop(nowhereEnv));

            // Second start: no training, and the proxy's classes come from the cache.
            Files.deleteIfExists(classes);
            Started second = startAndStop(env);
            assertTrue(second.firstLine().startsWith("listening tcp 127.0.0.1:"), second.toString());
            assertEquals("", notTheProxys(second.err()), "the cache is used quietly");
            assertTrue(Files.readString(classes).contains("org.epollproxy.cli.Main source: shared objects file"),
                    "the second start maps Main from the cache");

            Started misfit = misfitRun.get(5, TimeUnit.MINUTES);
            assertTrue(misfit.firstLine().startsWith("listening tcp 127.0.0.1:"), misfit.toString());
            assertEquals("", notTheProxys(misfit.err()), "a cache that does not fit is ignored quietly");

            Started nowhere = nowhereRun.get(5, TimeUnit.MINUTES);
            assertTrue(nowhere.firstLine().startsWith("listening tcp 127.0.0.1:"), nowhere.toString());
            assertEquals("", notTheProxys(nowhere.err()), "no writable cache directory is no error");
        } finally {
            beside.shutdownNow();
        }
    }

    /**
     * The launcher's decision to train again for a newer jar is checked with a fake JDK below; this runs it
     * with the real JDK 25, two training runs in a row (about 15 s of CPU): only with {@code -Dslow.tests}.
     */
    @Test
    void aNewJarRemakesTheCacheWithTheRealJdk(@TempDir Path tmp) throws Exception {
        Assumptions.assumeTrue(System.getProperty("slow.tests") != null, "-Dslow.tests runs the second real training run");
        Assumptions.assumeTrue(Files.isExecutable(JDK25.resolve("bin/java")), JDK25 + " is not installed");
        Path jar = Files.copy(JarProcess.jar(), tmp.resolve("epoll-proxy.jar"));
        Path cache = tmp.resolve("cache");
        Path aot = cache.resolve("epoll-proxy-jdk" + version(JDK25) + ".aot");
        Map<String, String> env = Map.of("JAVA_HOME", JDK25.toString(), "EPOLL_PROXY_JAR", jar.toString(),
                "EPOLL_PROXY_CACHE_DIR", cache.toString());
        Started first = startAndStop(env);
        assertTrue(first.err().contains("making the ahead-of-time cache " + aot), first.err());

        // A new jar (here: the same bytes written again, so a newer time stamp): the cache is made again.
        FileTime made = Files.getLastModifiedTime(aot);
        Files.copy(JarProcess.jar(), jar, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.setLastModifiedTime(jar, FileTime.fromMillis(made.toMillis() + 2_000));
        Started remade = startAndStop(env);
        assertTrue(remade.firstLine().startsWith("listening tcp 127.0.0.1:"), remade.toString());
        assertTrue(remade.err().contains("making the ahead-of-time cache"), "a jar newer than the cache: " + remade.err());
        assertTrue(Files.size(aot) > 1_000_000, "a cache of some MB again: " + Files.size(aot));
    }

    @Test
    void aFailedTrainingRunIsNotRetriedForTheSameJarButIsForANewOneAndHelpNeverTrains(@TempDir Path tmp) throws Exception {
        // A JDK 25 whose java records its arguments and prints nothing: every training run fails.
        Path jdk = LauncherIT.fakeJdk(tmp.resolve("jdk25"), "25.0.1");
        Path cache = tmp.resolve("cache");
        Path jar = Files.copy(JarProcess.jar(), tmp.resolve("epoll-proxy.jar")); // its own copy: its time stamp changes below
        Map<String, String> env = Map.of("JAVA_HOME", jdk.toString(), "EPOLL_PROXY_CACHE_DIR", cache.toString(), "EPOLL_PROXY_JAR", jar.toString());
        Path calls = jdk.resolve("calls");

        assertEquals(0, LauncherIT.run(env, "--version").exit());
        assertEquals(1, Files.readAllLines(calls).size(), "no training run for --version: " + Files.readAllLines(calls));

        LauncherIT.Run failed = LauncherIT.run(env, "-L", "127.0.0.1:0:127.0.0.1:9");
        assertEquals(0, failed.exit(), failed.err());
        List<String> all = Files.readAllLines(calls);
        assertEquals(3, all.size(), "a training run, then the proxy: " + all);
        assertTrue(all.get(1).contains("-XX:AOTCacheOutput=") && all.get(1).contains("--warmup"), all.get(1));
        assertFalse(all.get(2).contains("-XX:AOTCache="), "no cache after a failed training: " + all.get(2));
        assertTrue(failed.err().contains("(the training run failed); starting without it"), failed.err());

        LauncherIT.Run again = LauncherIT.run(env, "-L", "127.0.0.1:0:127.0.0.1:9");
        assertEquals(0, again.exit(), again.err());
        assertEquals(4, Files.readAllLines(calls).size(), "the failure is remembered for this jar: no second training run");
        assertEquals("", again.err());

        // A new jar (here: a newer time stamp than the cache file): trained for again, once.
        Path aot = cache.resolve("epoll-proxy-jdk25.0.1.aot");
        Files.setLastModifiedTime(jar, FileTime.fromMillis(Files.getLastModifiedTime(aot).toMillis() + 2_000));
        LauncherIT.Run newJar = LauncherIT.run(env, "-L", "127.0.0.1:0:127.0.0.1:9");
        all = Files.readAllLines(calls);
        assertEquals(6, all.size(), "a training run for the new jar, then the proxy: " + all);
        assertTrue(all.get(4).contains("-XX:AOTCacheOutput=") && all.get(4).contains("--warmup"), all.get(4));
        assertTrue(newJar.err().contains("making the ahead-of-time cache " + aot), newJar.err());
    }

    @Test
    void aCacheDirectoryAnotherUserOwnsOrMayWriteToIsNeitherReadNorTrainedInto(@TempDir Path tmp) throws Exception {
        // The JVM runs what a cache holds: a cache planted in a directory another user made first (a path under
        // /tmp) or may write to must not be passed to it, and no training run may write there.
        Path jdk = LauncherIT.fakeJdk(tmp.resolve("jdk25"), "25.0.1");
        Path jar = Files.copy(JarProcess.jar(), tmp.resolve("epoll-proxy.jar"));
        Path calls = jdk.resolve("calls");
        java.nio.file.attribute.UserPrincipal nobody = null;
        try {
            nobody = tmp.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody");
        } catch (java.io.IOException noSuchUser) {
            // the ownership case is then left out below
        }
        boolean root = "root".equals(System.getProperty("user.name"));
        record Case(String name, String mode, boolean otherOwner, String why) {}
        List<Case> cases = new java.util.ArrayList<>(List.of(
                new Case("world-writable", "rwxrwxrwx", false, "its group or other users may write to it"),
                new Case("group-writable", "rwxrwx---", false, "its group or other users may write to it")));
        if (root && nobody != null) cases.add(new Case("another user's", "rwx------", true, "it is not owned by this user"));
        for (Case c : cases) {
            Path cache = Files.createDirectory(tmp.resolve(c.name().replace("'", "")));
            // a cache "for this jar and JDK", newer than the jar: the launcher would pass it on as it is
            Path planted = Files.writeString(cache.resolve("epoll-proxy-jdk25.0.1.aot"), "planted");
            Files.setLastModifiedTime(planted, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() + 2_000));
            Files.setPosixFilePermissions(cache, java.nio.file.attribute.PosixFilePermissions.fromString(c.mode()));
            if (c.otherOwner()) Files.setOwner(cache, nobody);
            Files.deleteIfExists(calls);
            LauncherIT.Run run = LauncherIT.run(Map.of("JAVA_HOME", jdk.toString(), "EPOLL_PROXY_CACHE_DIR", cache.toString(),
                    "EPOLL_PROXY_JAR", jar.toString()), "-L", "127.0.0.1:0:127.0.0.1:9");
            assertEquals(0, run.exit(), c.name() + ": " + run.err());
            List<String> all = Files.readAllLines(calls);
            assertEquals(1, all.size(), c.name() + ": no training run, only the proxy: " + all);
            assertFalse(all.get(0).contains("-XX:AOTCache") || all.get(0).contains("SharedArchiveFile=" + cache),
                    c.name() + ": nothing of the directory passed to the JVM: " + all.get(0));
            assertEquals("epoll-proxy: not using the cache directory " + cache + ": " + c.why() + "; starting without a class cache\n",
                    run.err(), c.name());
        }
        if (cases.size() < 3) System.out.println("AotCacheIT: another user's cache directory not tried (needs root and a user nobody)");
    }

    /**
     * The cache's training data (printed at start by HotSpot's diagnostic AOTPrintTrainingInfo, under
     * {@code --version}: no forward, no training) holds a C2 compile (tier 4) of each of {@code methods}
     * (as it prints them: class[L].name(descriptor), or a prefix of that), and of at least {@code atLeast}
     * of the proxy's methods in all.
     */
    private static void assertTrainedWithC2(Path jar, Path cache, int atLeast, String... methods) throws Exception {
        LauncherIT.Run printed = LauncherIT.run(Map.of("JAVA_HOME", JDK25.toString(), "EPOLL_PROXY_JAR", jar.toString(),
                "EPOLL_PROXY_CACHE_DIR", cache.toString(), "JAVA_EXTRA_OPTS", "-XX:+UnlockDiagnosticVMOptions -XX:+AOTPrintTrainingInfo"),
                "--version");
        assertEquals(0, printed.exit(), printed.err());
        String training = printed.out() + printed.err();
        for (String m : methods) {
            java.util.regex.Pattern c2 = java.util.regex.Pattern.compile("(?m)^\\s*C " + java.util.regex.Pattern.quote(m) + "\\S*#\\d+L4\\b");
            assertTrue(c2.matcher(training).find(), "the training run compiled " + m + " with C2: "
                    + training.lines().filter(l -> l.trim().startsWith("C " + m)).map(l -> l.replaceAll(" udeps=.*", "")).distinct()
                    .collect(java.util.stream.Collectors.joining("\n")));
        }
        java.util.regex.Matcher any = java.util.regex.Pattern.compile("(?m)^\\s*C (org/epollproxy/\\S*)#\\d+L4\\b").matcher(training);
        java.util.Set<String> c2 = new java.util.TreeSet<>();
        while (any.find()) c2.add(any.group(1));
        assertTrue(c2.size() >= atLeast, "at least " + atLeast + " of the proxy's methods compiled with C2 by the training run: " + c2);
    }

    /** The lines of stderr that are not the proxy's own time-stamped log lines (the drain at SIGTERM). */
    private static String notTheProxys(String err) {
        return err.lines().filter(l -> !l.matches("\\d{4}-\\d\\d-\\d\\dT.*")).collect(java.util.stream.Collectors.joining("\n"));
    }

    private static String version(Path jdk) throws Exception {
        for (String line : Files.readAllLines(jdk.resolve("release"))) {
            if (line.startsWith("JAVA_VERSION=")) return line.substring("JAVA_VERSION=".length()).replace("\"", "");
        }
        throw new IllegalStateException("no JAVA_VERSION in " + jdk.resolve("release"));
    }
}
