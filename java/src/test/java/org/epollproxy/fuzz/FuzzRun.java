package org.epollproxy.fuzz;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The bounded fuzz run of {@code mvn verify}, {@link ParserFuzzTest#parsers} for 5 s, as a process:
 * a JVM of its own, because Jazzer installs its agent in the JVM it fuzzes in and instruments what that
 * JVM loads. Started once per test JVM, by whichever of {@link FuzzRunStartTest} and
 * {@link FuzzRunResultTest} runs first.
 *
 * <p>The fuzz JVM runs on C1 only (most of its CPU is Jazzer's start, which C2 made twice as dear) and
 * without the CDS archive (Jazzer appends its runtime to the boot class path, and sharing would be limited, with a
 * warning). Its output goes to {@code target/fuzz-reports/}: {@code parsers.txt} (JUnit's summary, a
 * finding's stack trace) and {@code libfuzzer.txt} (libFuzzer's progress, which it writes to fd 2).
 */
final class FuzzRun {
    static final Path REPORTS = Path.of(System.getProperty("fuzz.reports", "target/fuzz-reports"));
    static final Path SUMMARY = REPORTS.resolve("parsers.txt");
    private static Process process;

    private FuzzRun() {}

    static boolean skipped() {
        return Boolean.getBoolean("fuzz.skip");
    }

    static synchronized Process start() throws Exception {
        if (process != null) {
            return process;
        }
        Files.createDirectories(REPORTS);
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(Arrays.asList(System.getProperty("fuzz.argLine", "").trim().split("\\s+")));
        command.removeIf(String::isEmpty);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), FuzzLauncher.class.getName(),
                ParserFuzzTest.class.getName() + "#parsers(com.code_intelligence.jazzer.api.FuzzedDataProvider)"));
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectOutput(SUMMARY.toFile())
                .redirectError(REPORTS.resolve("libfuzzer.txt").toFile());
        builder.environment().put("JAZZER_FUZZ", "1");
        process = builder.start();
        Process started = process;
        // A test JVM that ends before FuzzRunResultTest ran (-Dtest=FuzzRunStartTest, a crash) leaves no fuzzer behind.
        Runtime.getRuntime().addShutdownHook(new Thread(started::destroyForcibly, "fuzz-run-stop"));
        return process;
    }
}
