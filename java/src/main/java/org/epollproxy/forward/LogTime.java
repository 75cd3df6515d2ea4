package org.epollproxy.forward;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * The timestamp that starts every log line: UTC, always with milliseconds ({@code 2026-12-05T06:00:00.000Z}),
 * so every line's timestamp has the same width. {@code Instant.toString()} drops {@code .000} on a whole
 * second, which broke parsers that cut lines by column or expect the fraction.
 */
public final class LogTime {
    private static final DateTimeFormatter FORMAT = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    /** {@code t} as a log timestamp. */
    public static String format(Instant t) {
        return FORMAT.format(t);
    }

    /** Now, from {@code clock}, as a log timestamp. */
    public static String now(Clock clock) {
        return format(clock.instant());
    }

    /** Now as a log timestamp. */
    public static String now() {
        return format(Instant.now());
    }

    private LogTime() {}
}
