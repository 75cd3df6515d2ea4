package org.epollproxy.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class ThrottledLineTest {
    private static final long S = 1_000_000_000L;

    @Test
    void theFirstLineAtOnceTheRestOncePerIntervalWithHowManyWereHeldBack() {
        ThrottledLine line = new ThrottledLine(10 * S);
        assertEquals("refused", line.next("refused", 100 * S));
        assertNull(line.next("refused", 101 * S));
        assertNull(line.next("refused", 109 * S));
        assertEquals("refused (2 more like it in the 12 s before, not logged)", line.next("refused", 112 * S));
        assertNull(line.next("refused", 113 * S));
        assertEquals("refused again (1 more like it in the 30 s before, not logged)", line.next("refused again", 142 * S));
        assertEquals("and later", line.next("and later", 200 * S), "nothing held back: the line as it is");
    }
}
