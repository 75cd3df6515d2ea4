package org.epollproxy.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns a JMH CSV result file ({@code -rf csv}) of {@link ForwardBench} and {@link SyscallBench} into
 * the markdown tables of bench/RESULTS.md, and optionally a data file of ratios to direct for the plot.
 *
 * <p>Usage: {@code JmhTable results.csv [ratios.dat]}.
 */
public final class JmhTable {
    private static final String[] FORWARDERS = {"direct", "epoll-proxy", "nio", "netty"};
    /** JMH CSV value by "Class.method[:secondary]|param". */
    private final Map<String, double[]> scores = new HashMap<>();

    private JmhTable(List<String> csv) {
        for (String line : csv.subList(1, csv.size())) {
            List<String> f = splitCsv(line);
            String name = f.get(0).replace("org.epollproxy.bench.", "");
            String param = f.size() > 7 ? f.get(7) : "";
            scores.put(name + "|" + param, new double[] {Table.parse(f.get(4)), Table.parse(f.get(5))});
        }
    }

    public static void main(String[] args) throws IOException {
        JmhTable t = new JmhTable(Table.lines(args[0]));
        t.forwarders(System.out);
        System.out.println();
        t.syscalls(System.out);
        t.perOp(System.out);
        if (args.length > 1) t.ratios(Path.of(args[1]));
    }

    /**
     * Cost per operation (from {@code -prof gc} and {@link ForwarderThreadsProfiler}; bench/run.sh adds
     * both): heap allocated by the whole JVM (client and echo server included) and by the forwarder's
     * threads alone, and the forwarder threads' CPU. Printed only when the run had them.
     */
    private void perOp(java.io.PrintStream out) {
        String[][] scenarios = {
            {"ForwardBench.bulk", "bulk (op = 1 MiB each way)"},
            {"ForwardBench.pingPong1", "ping-pong, 1 connection (op = 1 round trip)"},
            {"ForwardBench.pingPong64", "ping-pong, 64 connections (op = 64 round trips)"},
            {"ForwardBench.connectCycle", "connect + 64 B echo + close (op = 1 connection)"},
        };
        String[][] metrics = {
            {":gc.alloc.rate.norm", "whole JVM: heap allocated, B/op", "1"},
            {":fwd.alloc.norm", "forwarder threads: heap allocated, B/op", "1"},
            {":fwd.user.norm", "forwarder threads: user CPU, µs/op", "0.001"},
            {":fwd.sys.norm", "forwarder threads: system CPU, µs/op", "0.001"},
        };
        String[] head = new String[FORWARDERS.length + 1];
        head[0] = "per operation";
        System.arraycopy(FORWARDERS, 0, head, 1, FORWARDERS.length);
        Table t = new Table(head);
        int rows = 0;
        for (String[] s : scenarios) {
            for (String[] m : metrics) {
                String[] cells = new String[FORWARDERS.length + 1];
                cells[0] = s[1] + ": " + m[1];
                boolean any = false;
                for (int i = 0; i < FORWARDERS.length; i++) {
                    double v = score(s[0] + m[0], FORWARDERS[i]) * Double.parseDouble(m[2]);
                    any |= !Double.isNaN(v);
                    cells[i + 1] = Double.isNaN(v) ? "-" : Table.num(v);
                }
                if (any) {
                    t.row(cells);
                    rows++;
                }
            }
        }
        if (rows == 0) return;
        out.println();
        t.print(out);
        out.println();
        out.println("direct has no forwarder thread; its whole-JVM figure is the client's and the echo server's own allocation.");
    }

    private double score(String bench, String param) {
        double[] s = scores.get(bench + "|" + param);
        return s == null ? Double.NaN : s[0];
    }

    /** One scenario row: its figure per forwarder and whether higher is better. */
    private static final class Row {
        final String label;
        final double[] values = new double[FORWARDERS.length];
        final boolean higherIsBetter;

        Row(String label, boolean higherIsBetter) {
            this.label = label;
            this.higherIsBetter = higherIsBetter;
        }

        /** Performance relative to forwarder {@code base}: above 1 means better than it. */
        double relative(int i, int base) {
            return higherIsBetter ? values[i] / values[base] : values[base] / values[i];
        }
    }

    private List<Row> rows() {
        List<Row> rows = new ArrayList<>();
        Row bulk = new Row("bulk, MiB/s each way (1 connection, both directions)", true);
        Row pp1 = new Row("ping-pong, 1 connection: round trips/s", true);
        Row pp1p50 = new Row("ping-pong, 1 connection: p50 latency, µs", false);
        Row pp1p99 = new Row("ping-pong, 1 connection: p99 latency, µs", false);
        Row pp64 = new Row("ping-pong, 64 connections: round trips/s", true);
        Row pp64p50 = new Row("ping-pong, 64 connections: p50 batch latency, µs", false);
        Row pp64p99 = new Row("ping-pong, 64 connections: p99 batch latency, µs", false);
        Row conn = new Row("connect + 64 B echo + close: connections/s", true);
        for (int i = 0; i < FORWARDERS.length; i++) {
            String f = FORWARDERS[i];
            bulk.values[i] = score("ForwardBench.bulk", f); // one op = 1 MiB each way
            pp1.values[i] = 1e6 / score("ForwardBench.pingPong1", f);
            pp1p50.values[i] = score("ForwardBench.pingPong1:p0.50", f);
            pp1p99.values[i] = score("ForwardBench.pingPong1:p0.99", f);
            pp64.values[i] = ForwardBench.CONNECTIONS * 1e6 / score("ForwardBench.pingPong64", f);
            pp64p50.values[i] = score("ForwardBench.pingPong64:p0.50", f);
            pp64p99.values[i] = score("ForwardBench.pingPong64:p0.99", f);
            conn.values[i] = score("ForwardBench.connectCycle", f);
        }
        rows.add(bulk);
        rows.add(pp1);
        rows.add(pp1p50);
        rows.add(pp1p99);
        rows.add(pp64);
        rows.add(pp64p50);
        rows.add(pp64p99);
        rows.add(conn);
        return rows;
    }

    private void forwarders(PrintStream out) {
        Table t = new Table("scenario", "direct", "epoll-proxy", "nio", "netty", "epoll-proxy vs nio", "epoll-proxy vs netty");
        for (Row r : rows()) {
            String[] cells = new String[7];
            cells[0] = r.label;
            for (int i = 0; i < FORWARDERS.length; i++) {
                cells[i + 1] = Table.num(r.values[i]) + (i == 0 ? "" : " (" + fmt(r.relative(i, 0)) + ")");
            }
            cells[5] = fmt(r.relative(1, 2));
            cells[6] = fmt(r.relative(1, 3));
            t.row(cells);
        }
        t.print(out);
        out.println();
        out.println("In parentheses: performance relative to direct (1 = direct; for latencies direct/value, so higher is always better).");
        out.println("The last two columns: epoll-proxy's performance relative to nio and to netty (above 1 = epoll-proxy ahead).");
    }

    private static String fmt(double r) {
        return Double.isNaN(r) ? "-" : String.format(Locale.ROOT, "%.2fx", r);
    }

    /** Per row: what is called, then the jnr-ffi (the proxy), jffi-by-hand, plain JNI and java.nio methods. */
    private static final String[][] CALLS = {
        {"a call that makes no syscall (the binding alone)", "jnrNoop", "jffiNoop", "jniNoop", null},
        {"epoll_wait(timeout 0) on an empty set / Selector.selectNow()", "jnrEpollWaitEmpty", "jffiEpollWaitEmpty",
            "jniEpollWaitEmpty", "nioSelectNowEmpty"},
        {"recv on an idle socket: -EAGAIN / read() == 0", "jnrRecvEagain", "jffiRecvEagain", "jniRecvEagain", "nioReadZero"},
        {"EPOLL_CTL_MOD alone (NIO has no equivalent: interestOps only queues the change)", "jnrCtlMod", "jffiCtlMod",
            "jniCtlMod", null},
        {"EPOLL_CTL_MOD + epoll_wait(0) / interestOps + selectNow", "jnrCtlModWait", null, null, "nioInterestOpsSelectNow"},
        {"64 B send on one end + recv on the other (loopback TCP)", "jnrRoundTrip64", "jffiRoundTrip64",
            "jniRoundTrip64", "nioRoundTrip64"},
    };

    private void syscalls(PrintStream out) {
        Table t = new Table("call, ns (± 99.9% error)", "jnr-ffi (the proxy)", "jffi by hand", "plain JNI", "java.nio");
        for (String[] c : CALLS) t.row(c[0], ns(c[1]), ns(c[2]), ns(c[3]), ns(c[4]));
        t.print(out);
    }

    private String ns(String method) {
        if (method == null) return "-";
        double[] s = scores.get("SyscallBench." + method + "|");
        if (s == null) return "-";
        return Table.num(s[0]) + (Double.isNaN(s[1]) ? "" : " ± " + Table.num(s[1]));
    }

    /** For gnuplot: one line per throughput scenario, the ratio to direct per forwarder. */
    private void ratios(Path file) throws IOException {
        StringBuilder sb = new StringBuilder("scenario");
        for (int i = 1; i < FORWARDERS.length; i++) sb.append('\t').append(FORWARDERS[i]);
        sb.append('\n');
        String[] shortNames = {"bulk", "ping-pong 1", "", "", "ping-pong 64", "", "", "connections"};
        List<Row> rows = rows();
        for (int r = 0; r < rows.size(); r++) {
            if (shortNames[r].isEmpty()) continue;
            sb.append('"').append(shortNames[r]).append('"');
            for (int i = 1; i < FORWARDERS.length; i++) {
                sb.append('\t').append(String.format(Locale.ROOT, "%.3f", rows.get(r).relative(i, 0)));
            }
            sb.append('\n');
        }
        Files.writeString(file, sb.toString());
    }

    /** Splits one CSV line of JMH's output (quoted strings without embedded quotes, bare numbers). */
    private static List<String> splitCsv(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (char ch : line.toCharArray()) {
            if (ch == '"') {
                quoted = !quoted;
            } else if (ch == ',' && !quoted) {
                out.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(ch);
            }
        }
        out.add(cur.toString());
        return out;
    }
}
