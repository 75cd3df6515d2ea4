package org.epollproxy.stats;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The /proc parsing of the process metrics, on files written here: odd command names, missing files. */
class ProcessMetricsParsingTest {

    @Test
    void readsStatPastACommandNameWithSpacesAndParentheses(@TempDir Path proc) throws Exception {
        Path self = Files.createDirectories(proc.resolve("self"));
        Files.createDirectories(self.resolve("fd"));
        for (int i = 0; i < 5; i++) Files.createFile(self.resolve("fd/" + i));
        // Fields 3 onward after "(name) ": utime (14) = 250 ticks, stime (15) = 50, starttime (22) = 1234500.
        StringBuilder stat = new StringBuilder("4242 (java (x) y) S");
        for (int field = 4; field <= 52; field++) {
            stat.append(' ').append(field == 14 ? "250" : field == 15 ? "50" : field == 22 ? "1234500" : "0");
        }
        Files.writeString(self.resolve("stat"), stat + "\n");
        Files.writeString(proc.resolve("stat"), "cpu  1 2 3\nbtime 1700000000\n");
        Files.writeString(self.resolve("status"), "Name:\tjava\nVmSize:\t  204800 kB\nVmRSS:\t   10240 kB\n");
        Files.writeString(self.resolve("limits"), "Limit                     Soft Limit           Hard Limit           Units\n"
                + "Max open files            unlimited            unlimited            files\n");
        String text = ProcessMetrics.render(proc);
        assertTrue(text.contains("\nprocess_cpu_seconds_total 3\n"), text);
        assertTrue(text.contains("\nprocess_start_time_seconds 1700012345\n"), text);
        assertTrue(text.contains("\nprocess_resident_memory_bytes 10485760\n"), text);
        assertTrue(text.contains("\nprocess_virtual_memory_bytes 209715200\n"), text);
        assertTrue(text.contains("\nprocess_open_fds 4\n"), "5 entries, less the listing's own: " + text);
        assertTrue(text.contains("\nprocess_max_fds 9.223372036854776E18\n"), "unlimited: " + text);
    }

    @Test
    void aFileThatCannotBeReadLeavesItsMetricOut(@TempDir Path proc) {
        String text = ProcessMetrics.render(proc);
        assertTrue(text.contains("epollproxy_build_info{version="), text);
        assertFalse(text.contains("process_"), text);
    }
}
