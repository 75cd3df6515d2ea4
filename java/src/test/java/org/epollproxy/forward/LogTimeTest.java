package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
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
}
