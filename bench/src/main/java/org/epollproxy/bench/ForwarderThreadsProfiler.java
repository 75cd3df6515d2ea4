package org.epollproxy.bench;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.InternalProfiler;
import org.openjdk.jmh.results.AggregationPolicy;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.ScalarResult;

/**
 * What the forwarder's own threads cost per benchmark operation, apart from the client, the echo server
 * and JMH in the same JVM: heap bytes allocated ({@code fwd.alloc.norm}, B/op) and CPU time, user and
 * system ({@code fwd.user.norm}, {@code fwd.sys.norm}, ns/op), from the JVM's per-thread counters, summed
 * over the threads whose name matches {@code -Dfwd.threads} (default: epoll-proxy's {@code epoll-loop-N},
 * the NIO forwarder's thread, Netty's event loop). {@code -prof gc} next to it gives the whole JVM's
 * allocation, which includes the client's.
 *
 * <p>{@code -prof org.epollproxy.bench.ForwarderThreadsProfiler}
 */
public final class ForwarderThreadsProfiler implements InternalProfiler {
    private static final Pattern NAMES = Pattern.compile(
            System.getProperty("fwd.threads", "epoll-loop-\\d+|nio-forwarder|.*[Ee]vent[Ll]oop.*"));
    private final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private Map<Long, long[]> before = new HashMap<>();

    @Override
    public String getDescription() {
        return "allocation and CPU (user, system) per op of the forwarder's threads";
    }

    @Override
    public void beforeIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams) {
        before = snapshot();
    }

    @Override
    public Collection<? extends Result> afterIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams,
            IterationResult result) {
        Map<Long, long[]> after = snapshot();
        long alloc = 0, cpu = 0, user = 0;
        for (Map.Entry<Long, long[]> e : after.entrySet()) {
            long[] b = before.getOrDefault(e.getKey(), new long[3]);
            alloc += e.getValue()[0] - b[0];
            cpu += e.getValue()[1] - b[1];
            user += e.getValue()[2] - b[2];
        }
        double ops = result.getMetadata() == null ? Double.NaN : result.getMetadata().getAllOps();
        List<Result> out = new ArrayList<>();
        out.add(new ScalarResult("fwd.alloc.norm", alloc / ops, "B/op", AggregationPolicy.AVG));
        out.add(new ScalarResult("fwd.user.norm", user / ops, "ns/op", AggregationPolicy.AVG));
        out.add(new ScalarResult("fwd.sys.norm", (cpu - user) / ops, "ns/op", AggregationPolicy.AVG));
        out.add(new ScalarResult("fwd.threads", after.size(), "threads", AggregationPolicy.MAX));
        return out;
    }

    /** Thread id -> {allocated bytes, CPU ns, user ns} of the matching live threads. */
    private Map<Long, long[]> snapshot() {
        Map<Long, long[]> m = new HashMap<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (!NAMES.matcher(t.getName()).matches()) continue;
            long id = t.getId();
            m.put(id, new long[] {threads.getThreadAllocatedBytes(id), threads.getThreadCpuTime(id), threads.getThreadUserTime(id)});
        }
        return m;
    }
}
