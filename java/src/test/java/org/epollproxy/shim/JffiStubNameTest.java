package org.epollproxy.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Locale;
import org.junit.jupiter.api.Test;

/** The build points jffi's String.format call at JffiStubName.format: it must give what String.format gave. */
class JffiStubNameTest {

    @Test
    void theStubNameIsWhatStringFormatGaveInAsciiDigits() {
        assertEquals(String.format(Locale.ROOT, JffiStubName.STUB_FORMAT, 1, 2), JffiStubName.format(JffiStubName.STUB_FORMAT, 1, 2));
        assertEquals("jffi-1.2", JffiStubName.format("jffi-%d.%d", 1, 2));
        assertEquals("jffi-10.-3", JffiStubName.format("jffi-%d.%d", 10, -3));
    }

    @Test
    void anyOtherCallMeansWhatStringFormatMeans() {
        assertEquals(String.format("%s-%d", "x", 5), JffiStubName.format("%s-%d", "x", 5));
        assertEquals(String.format("jffi-%d.%d", 1L, 2L), JffiStubName.format("jffi-%d.%d", 1L, 2L));
        assertEquals(String.format("jffi-%d.%d", 1, 2, 3), JffiStubName.format("jffi-%d.%d", 1, 2, 3));
        assertEquals(String.format("no args"), JffiStubName.format("no args"));
    }
}
