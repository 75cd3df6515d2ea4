package org.epollproxy.forward;

import java.time.Clock;
import java.time.Instant;

/**
 * The timestamp that starts every log line: UTC, always with milliseconds ({@code 2026-12-05T06:00:00.000Z}),
 * so every line's timestamp has the same width. {@code Instant.toString()} drops {@code .000} on a whole
 * second, which broke parsers that cut lines by column or expect the fraction.
 *
 * <p>Written out by hand rather than with a {@code DateTimeFormatter}: the formatter and what it pulls in
 * are about 60 JDK classes, loaded by the first log line and kept in the class data archive, where each
 * class costs idle RSS at every start (docs/tuning.md). Years 0000-9999 only, as a clock of today gives.
 */
public final class LogTime {
    private static final long MILLIS_PER_DAY = 86_400_000L;

    /** {@code t} as a log timestamp. */
    public static String format(Instant t) {
        long ms = t.toEpochMilli();
        long days = Math.floorDiv(ms, MILLIS_PER_DAY);
        int msOfDay = (int) Math.floorMod(ms, MILLIS_PER_DAY);
        // The civil date of a day count since 1970-01-01, by 400-year eras of 146,097 days that start on
        // 1 March (so the leap day is each year's last): the year, the day of that March-based year, the
        // month from the day (153 days per 5 months), then back to a January-based year.
        long z = days + 719_468; // days since 0000-03-01
        long era = Math.floorDiv(z, 146_097);
        long dayOfEra = z - era * 146_097;
        long yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365;
        long dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
        long mp = (5 * dayOfYear + 2) / 153;
        int day = (int) (dayOfYear - (153 * mp + 2) / 5 + 1);
        int month = (int) (mp < 10 ? mp + 3 : mp - 9);
        long year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
        StringBuilder b = new StringBuilder(24);
        digits(b, year, 4).append('-');
        digits(b, month, 2).append('-');
        digits(b, day, 2).append('T');
        digits(b, msOfDay / 3_600_000, 2).append(':');
        digits(b, msOfDay / 60_000 % 60, 2).append(':');
        digits(b, msOfDay / 1000 % 60, 2).append('.');
        digits(b, msOfDay % 1000, 3).append('Z');
        return b.toString();
    }

    /** {@code v} (0 or more) with leading zeros to {@code width} digits. */
    private static StringBuilder digits(StringBuilder b, long v, int width) {
        String s = Long.toString(v);
        for (int i = s.length(); i < width; i++) b.append('0');
        return b.append(s);
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
