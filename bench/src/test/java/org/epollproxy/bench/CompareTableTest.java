package org.epollproxy.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** compare.sh's table shows per forwarder the median of its rounds, skipping rounds without a figure. */
class CompareTableTest {

    @Test
    void mediansPerForwarderInOrderOfFirstAppearance() {
        List<String[]> rows = CompareTable.medians(List.of(
                "direct\t10\t-",
                "haproxy\t4\t7",
                "direct\t30\t-",
                "haproxy\t6\tfailed",
                "direct\t20\t-",
                "haproxy\t5\t9"), 3);
        assertEquals(2, rows.size());
        assertArrayEquals(new String[] {"direct", "20.0", "-"}, rows.get(0));
        assertArrayEquals(new String[] {"haproxy", "5.0", "8.0"}, rows.get(1), "even count: mean of the middle two");
    }
}
