package org.epollproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Durations (--check and the like): the range the message states, "1ms-24h", is the range accepted, both ends included. */
class DurationRangeTest {

    @Test
    void bothEndsOfTheStatedRangeAreAcceptedInEveryUnit() {
        assertEquals(1, OptionValues.millis("1ms"));
        assertEquals(86_400_000, OptionValues.millis("24h"));
        assertEquals(86_400_000, OptionValues.millis("1440m"));
        assertEquals(86_400_000, OptionValues.millis("86400s"));
        assertEquals(86_400_000, OptionValues.millis("86400"));
        assertEquals(86_400_000, OptionValues.millis("86400000ms"));
        assertEquals(300_000, OptionValues.millis("5m"));
    }

    @Test
    void justOutsideTheRangeIsRefusedWithTheRangeInTheMessage() {
        for (String s : new String[] {"0", "0ms", "0h", "86400001ms", "86401s", "1441m", "25h"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OptionValues.millis(s), s);
            assertTrue(e.getMessage().contains("out of range 1ms-24h"), e.getMessage());
        }
        assertTrue(assertThrows(IllegalArgumentException.class, () -> OptionValues.millis("1d")).getMessage().contains("not a duration"));
    }
}
