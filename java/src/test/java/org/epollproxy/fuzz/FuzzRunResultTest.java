package org.epollproxy.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.nio.file.Files;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * The verdict of the fuzz run {@link FuzzRunStartTest} started (or starts it, when run alone): a finding
 * fails this test with JUnit's summary from the fuzz JVM, and Jazzer keeps the finding's input under the
 * seeds, in {@code src/test/resources/org/epollproxy/fuzz/ParserFuzzTestInputs/parsers/}, as a regression
 * test. Isolated and ordered last only to run after every other class: the isolated classes wait for all
 * others to end, and while this one waits, the fuzz run finishes beside them.
 */
@Isolated("runs after every other class, while the fuzz run finishes")
@Order(Integer.MAX_VALUE)
class FuzzRunResultTest {
    private static final long LIMIT_SECONDS = 180; // 5 s of fuzzing, ~5 s to start, and a loaded machine

    @Test
    void theFuzzRunFindsNothing() throws Exception {
        assumeFalse(FuzzRun.skipped(), "-Dfuzz.skip");
        Process fuzz = FuzzRun.start();
        try {
            assertTrue(fuzz.waitFor(LIMIT_SECONDS, TimeUnit.SECONDS),
                    "the fuzz run did not end within " + LIMIT_SECONDS + " s");
            assertEquals(0, fuzz.exitValue(), () -> "the fuzz run failed (its output is in "
                    + FuzzRun.REPORTS.toAbsolutePath() + "):\n" + summary());
        } finally {
            fuzz.destroyForcibly();
        }
    }

    private static String summary() {
        try {
            return Files.readString(FuzzRun.SUMMARY);
        } catch (Exception e) {
            return "(cannot read " + FuzzRun.SUMMARY + ": " + e + ")";
        }
    }
}
