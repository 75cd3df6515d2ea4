package org.epollproxy.sim;

/**
 * An invariant of the simulation was broken. An {@link Error}, not a RuntimeException, on purpose:
 * the event loop catches RuntimeExceptions from handlers (and must), so a violation detected inside a
 * syscall made by a handler has to pass through it to the test.
 */
final class SimViolation extends AssertionError {
    SimViolation(String message) {
        super(message);
    }
}
