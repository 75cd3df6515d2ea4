package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Log timestamps always carry milliseconds, also on a whole second: every line's timestamp has one width. */
class LogTimeTest {

    @Test
    void aWholeSecondIsWrittenWithItsDotZeroZeroZero() {
        assertEquals("2026-12-05T06:00:00.000Z", LogTime.format(Instant.parse("2026-12-05T06:00:00Z")));
        assertEquals("2026-12-05T06:00:00.100Z", LogTime.format(Instant.parse("2026-12-05T06:00:00.1Z")));
        assertEquals("2026-12-05T06:00:00.123Z", LogTime.format(Instant.parse("2026-12-05T06:00:00.123456789Z")));
    }

    @Test
    void aLogLineOnAWholeSecondStartsWithAFullWidthTimestamp() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Log log = new Log(new PrintStream(bytes, true, StandardCharsets.UTF_8),
                Clock.fixed(Instant.parse("2026-12-05T06:00:00Z"), ZoneOffset.UTC));
        log.info("hello");
        log.flush();
        assertEquals("2026-12-05T06:00:00.000Z hello\n", bytes.toString(StandardCharsets.UTF_8));
    }

    /** The hand-written calendar against the JDK's, on the days where calendars go wrong and at random. */
    @Test
    void everyTimestampIsTheOneTheJdkFormatterWrites() {
        DateTimeFormatter jdk = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
        for (String s : new String[] {"1970-01-01T00:00:00Z", "1969-12-31T23:59:59.999Z", "2000-02-29T12:00:00Z",
            "2000-03-01T00:00:00Z", "2100-02-28T23:59:59.999Z", "2100-03-01T00:00:00Z", "2024-12-31T23:59:59.999Z",
            "2025-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z"}) {
            Instant t = Instant.parse(s);
            assertEquals(jdk.format(t), LogTime.format(t), s);
        }
        SplittableRandom random = new SplittableRandom(27);
        long max = Instant.parse("9999-12-31T23:59:59.999Z").toEpochMilli();
        long min = Instant.parse("0000-01-01T00:00:00Z").toEpochMilli();
        for (int i = 0; i < 20_000; i++) {
            Instant t = Instant.ofEpochMilli(random.nextLong(min, max + 1));
            assertEquals(jdk.format(t), LogTime.format(t), t::toString);
        }
    }
}
