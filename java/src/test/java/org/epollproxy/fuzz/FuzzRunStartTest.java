package org.epollproxy.fuzz;

import static org.junit.jupiter.api.Assumptions.assumeFalse;

import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * Starts the 5 s fuzz run ({@link FuzzRun}) before any other test class, so that it fuzzes beside them:
 * it keeps about one core busy, and alone, after the unit tests, it left the other core idle for 20 s of
 * every {@code mvn verify}. {@link FuzzRunResultTest}, the last class, waits for its verdict.
 * {@code -Dfuzz.skip} skips both.
 */
@Order(0)
class FuzzRunStartTest {
    @Test
    void theFuzzRunStarts() throws Exception {
        assumeFalse(FuzzRun.skipped(), "-Dfuzz.skip");
        FuzzRun.start(); // throws if the JVM cannot be started; FuzzRunResultTest judges what it did
    }
}
