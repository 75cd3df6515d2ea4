package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.UnixOperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.epollproxy.stats.StatsServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * {@code /metrics} carries the standard process metrics and the build: checked against what the JVM
 * itself reports about this process (the proxy runs in the test's JVM here).
 */
@Isolated("counts the JVM's open fds: classes beside it closed sockets meanwhile, and 300 more showed as 261")
class ProcessMetricsTest {

    private static double one(Map<String, PrometheusParser.Family> m, String name, String type) {
        PrometheusParser.Family f = m.get(name);
        assertTrue(f != null, name + " is missing; families: " + m.keySet());
        assertEquals(type, f.type, name);
        assertEquals(1, f.samples.size(), name);
        return f.sum();
    }

    @Test
    void processMetricsAgreeWithWhatTheJvmSaysOfItsOwnProcess() throws Exception {
        UnixOperatingSystemMXBean os = (UnixOperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        try (TestBackend backend = TestBackend.echo(); TestProxy proxy = new TestProxy(backend.port());
                StatsServer stats = StatsEndpointTest.statsOn(proxy)) {
            double cpuBefore = ProcessHandle.current().info().totalCpuDuration().orElse(Duration.ZERO).toNanos() / 1e9;
            Map<String, PrometheusParser.Family> m = StatsEndpointTest.metrics(stats);
            double cpuAfter = ProcessHandle.current().info().totalCpuDuration().orElse(Duration.ZERO).toNanos() / 1e9;

            double cpu = one(m, "process_cpu_seconds_total", "counter");
            assertTrue(cpu >= cpuBefore - 0.02 && cpu <= cpuAfter + 0.02, cpuBefore + " <= " + cpu + " <= " + cpuAfter);
            double start = one(m, "process_start_time_seconds", "gauge");
            double jvmStart = ManagementFactory.getRuntimeMXBean().getStartTime() / 1000.0;
            assertTrue(Math.abs(start - jvmStart) < 5, "start " + start + " vs the JVM's " + jvmStart);
            assertEquals(os.getMaxFileDescriptorCount(), one(m, "process_max_fds", "gauge"));
            double rss = one(m, "process_resident_memory_bytes", "gauge");
            assertTrue(rss > 1 << 20 && rss < one(m, "process_virtual_memory_bytes", "gauge"), "rss " + rss);

            // The HTTP client and the stats server open and close a few fds of their own around each
            // request: compare loosely with the JVM's count, and by a step far larger than that noise.
            double fds = one(m, "process_open_fds", "gauge");
            assertTrue(Math.abs(fds - os.getOpenFileDescriptorCount()) < 30, fds + " vs the JVM's " + os.getOpenFileDescriptorCount());
            List<ServerSocket> more = new ArrayList<>();
            try {
                for (int i = 0; i < 300; i++) more.add(new ServerSocket(0, 1, InetAddress.getLoopbackAddress()));
                double withMore = one(StatsEndpointTest.metrics(stats), "process_open_fds", "gauge");
                assertTrue(withMore >= fds + 300 - 30, fds + " fds, then 300 more sockets: " + withMore);
            } finally {
                for (ServerSocket s : more) s.close();
            }

            PrometheusParser.Family build = m.get("epollproxy_build_info");
            assertEquals("gauge", build.type);
            assertEquals(1, build.samples.size());
            assertEquals(1, build.sum());
            String version = build.samples.get(0).labels().get("version");
            assertTrue(version != null && !version.isEmpty(), "a version label: " + build.samples);
        }
    }
}
