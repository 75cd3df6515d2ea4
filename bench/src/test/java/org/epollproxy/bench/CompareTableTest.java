package org.epollproxy.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
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

    @Test
    void theCpuPerOperationFromAColdStartIsComparedWithinEachRoundBesideTheWarmedOne() {
        List<String> header = List.of("forwarder", "conn_cpu_us", "round", "cold_conn_cpu_us", "cold_pp100_cpu_us");
        String table = pairs(header, List.of(
                "epoll-proxy\t80\t1\t200\t30", "haproxy\t100\t1\t100\t20",
                "epoll-proxy\t90\t2\t150\t-", "haproxy\t100\t2\t100\t20"));
        assertTrue(table.contains("| CPU per connection | 1.18x (1.11-1.25) |"), table);
        assertTrue(table.contains("| from a cold start: CPU per connection | 0.58x (0.50-0.67) |"), table);
        assertTrue(table.contains("| from a cold start: ping-pong 100: CPU per round trip | 0.67x |"), "only the round with both: " + table);
        // A TSV of a compare.sh before the cold runs: no rows for them, and no failure.
        String old = pairs(List.of("forwarder", "conn_cpu_us", "round"), List.of("epoll-proxy\t80\t1", "haproxy\t100\t1"));
        assertFalse(old.contains("cold start"), old);
    }

    private static String pairs(List<String> header, List<String> lines) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        CompareTable.pairRatios(lines, header, new PrintStream(b, true, StandardCharsets.UTF_8));
        return b.toString(StandardCharsets.UTF_8);
    }
}
