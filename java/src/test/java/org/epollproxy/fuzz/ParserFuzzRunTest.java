package org.epollproxy.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * The bounded fuzz run of {@code mvn verify}: {@link ParserFuzzTest#parsers} for 15 s, in a JVM of its
 * own (Jazzer installs its agent in the JVM it fuzzes in, and instruments what that JVM loads), started
 * by this test so that it fuzzes while the other unit tests run: it keeps about one core busy, and
 * alone, after the unit tests, it left the other core idle for 20 s of every run.
 *
 * <p>The fuzz JVM keeps C2 (with C1 only, a run tries half as many inputs) and runs without the CDS
 * archive (Jazzer appends its runtime to the boot class path, and sharing would be limited, with a
 * warning). Its output goes to {@code target/fuzz-reports/}: {@code parsers.txt} (JUnit's summary, a
 * finding's stack trace) and {@code libfuzzer.txt} (libFuzzer's progress, written to fd 2). A finding
 * fails this test with that summary, and Jazzer keeps its input under the seeds, as a regression test.
 * {@code -Dfuzz.skip} skips it.
 */
@Order(0) // first, beside the simulation: the two longest runs start together
class ParserFuzzRunTest {
    private static final long RUN_LIMIT_SECONDS = 180; // 15 s of fuzzing, ~5 s to start, and a loaded machine

    @Test
    void parsersFuzzFor15Seconds() throws Exception {
        assumeFalse(Boolean.getBoolean("fuzz.skip"), "-Dfuzz.skip");
        Path reports = Path.of(System.getProperty("fuzz.reports", "target/fuzz-reports"));
        Files.createDirectories(reports);
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(Arrays.asList(System.getProperty("fuzz.argLine", "").trim().split("\\s+")));
        command.removeIf(String::isEmpty);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), FuzzLauncher.class.getName(),
                ParserFuzzTest.class.getName() + "#parsers(com.code_intelligence.jazzer.api.FuzzedDataProvider)"));
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectOutput(reports.resolve("parsers.txt").toFile())
                .redirectError(reports.resolve("libfuzzer.txt").toFile());
        builder.environment().put("JAZZER_FUZZ", "1");
        Process fuzz = builder.start();
        try {
            assertTrue(fuzz.waitFor(RUN_LIMIT_SECONDS, TimeUnit.SECONDS),
                    "the fuzz run did not end within " + RUN_LIMIT_SECONDS + " s");
            assertEquals(0, fuzz.exitValue(), () -> "the fuzz run failed (" + reports.toAbsolutePath()
                    + File.separator + "): \n" + read(reports.resolve("parsers.txt")));
        } finally {
            fuzz.destroyForcibly();
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (Exception e) {
            return "(cannot read " + file + ": " + e + ")";
        }
    }
}
