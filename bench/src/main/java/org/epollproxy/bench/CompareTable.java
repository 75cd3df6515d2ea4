package org.epollproxy.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Prints compare.sh's results (one TSV line per forwarder and round) as one markdown table, scenario x
 * forwarder, each figure the median over the rounds with its ratio to direct; optionally writes the
 * ratios for the plot.
 *
 * <p>Usage: {@code CompareTable compare.tsv [ratios.dat]}.
 */
public final class CompareTable {

    /** A TSV column shown as a table row; {@code sense} +1 higher is better, -1 lower is better, 0 no ratio. */
    private static final class Metric {
        final String column;
        final String label;
        final int sense;
        final double scale;
        final String plotName;

        Metric(String column, String label, int sense, double scale, String plotName) {
            this.column = column;
            this.label = label;
            this.sense = sense;
            this.scale = scale;
            this.plotName = plotName;
        }
    }

    private static final Metric[] METRICS = {
        new Metric("bulk_MBps", "bulk, MB/s (iperf3 --bidir, both directions summed)", 1, 1, "bulk"),
        new Metric("bulk_cores", "  forwarder CPU during bulk, cores", 0, 1, null),
        new Metric("bulk_cpu_s_per_GB", "  forwarder CPU per GB moved, s", 0, 1, null),
        new Metric("bulk_user_s_per_GB", "    of which user / system: user", 0, 1, null),
        new Metric("bulk_sys_s_per_GB", "    system", 0, 1, null),
        new Metric("pp1_rtps", "ping-pong 64 B, 1 connection: round trips/s", 1, 1, "ping-pong 1"),
        new Metric("pp1_p99_us", "ping-pong 64 B, 1 connection: p99 µs", -1, 1, null),
        new Metric("pp1_cores", "  forwarder CPU, cores", 0, 1, null),
        new Metric("pp1_cpu_us", "  forwarder CPU per round trip, µs", 0, 1, null),
        new Metric("pp1_user_us", "    of which user", 0, 1, null),
        new Metric("pp1_sys_us", "    system", 0, 1, null),
        new Metric("pp100_rtps", "ping-pong 64 B, 100 connections: round trips/s", 1, 1, "ping-pong 100"),
        new Metric("pp100_p99_us", "ping-pong 64 B, 100 connections: p99 µs", -1, 1, null),
        new Metric("pp100_cores", "  forwarder CPU, cores", 0, 1, null),
        new Metric("pp100_cpu_us", "  forwarder CPU per round trip, µs", 0, 1, null),
        new Metric("pp100_user_us", "    of which user", 0, 1, null),
        new Metric("pp100_sys_us", "    system", 0, 1, null),
        new Metric("conn_per_s", "connect + 64 B echo + close: connections/s", 1, 1, "connections"),
        new Metric("conn_failed", "  failed connections in that run", 0, 1, null),
        new Metric("conn_cores", "  forwarder CPU, cores", 0, 1, null),
        new Metric("conn_cpu_us", "  forwarder CPU per connection, µs", 0, 1, null),
        new Metric("conn_user_us", "    of which user", 0, 1, null),
        new Metric("conn_sys_us", "    system", 0, 1, null),
        new Metric("cold_bulk_MBps", "from a cold start (COMPARE_COLD_SECONDS from the listening line): bulk MB/s", 0, 1, null),
        new Metric("cold_bulk_cpu_s_per_GB", "  forwarder CPU per GB moved, s (user / system below)", 0, 1, null),
        new Metric("cold_bulk_user_s_per_GB", "    user", 0, 1, null),
        new Metric("cold_bulk_sys_s_per_GB", "    system", 0, 1, null),
        new Metric("cold_pp1_rtps", "from a cold start: ping-pong 1 connection, round trips/s", 0, 1, null),
        new Metric("cold_pp1_cpu_us", "  forwarder CPU per round trip, µs", 0, 1, null),
        new Metric("cold_pp1_user_us", "    user", 0, 1, null),
        new Metric("cold_pp1_sys_us", "    system", 0, 1, null),
        new Metric("cold_pp100_rtps", "from a cold start: ping-pong 100 connections, round trips/s", 0, 1, null),
        new Metric("cold_pp100_cpu_us", "  forwarder CPU per round trip, µs", 0, 1, null),
        new Metric("cold_pp100_user_us", "    user", 0, 1, null),
        new Metric("cold_pp100_sys_us", "    system", 0, 1, null),
        new Metric("cold_conn_per_s", "from a cold start: connections/s", 0, 1, null),
        new Metric("cold_conn_cpu_us", "  forwarder CPU per connection, µs", 0, 1, null),
        new Metric("cold_conn_user_us", "    user", 0, 1, null),
        new Metric("cold_conn_sys_us", "    system", 0, 1, null),
        new Metric("held_served", "held concurrent connections (COMPARE_HOLD): served", 0, 1, null),
        new Metric("idle_rss_kb", "idle RSS of the forwarder, MiB", 0, 1.0 / 1024, null),
        new Metric("rss_per_conn_B", "RSS growth per open connection, bytes", 0, 1, null),
        new Metric("pss_per_conn_B", "PSS growth per open connection, bytes", 0, 1, null),
    };

    public static void main(String[] args) throws IOException {
        List<String> lines = Table.lines(args[0]);
        List<String> header = List.of(lines.get(0).split("\t"));
        List<String[]> rows = medians(lines.subList(1, lines.size()), header.size());
        int direct = -1;
        for (int i = 0; i < rows.size(); i++) if (rows.get(i)[0].equals("direct")) direct = i;

        String[] head = new String[rows.size() + 1];
        head[0] = "scenario";
        for (int i = 0; i < rows.size(); i++) head[i + 1] = rows.get(i)[0];
        Table t = new Table(head);
        StringBuilder dat = new StringBuilder("scenario");
        for (String[] r : rows) if (!r[0].equals("direct")) dat.append('\t').append(r[0]);
        dat.append('\n');
        for (Metric m : METRICS) {
            int col = header.indexOf(m.column);
            if (col < 0) continue; // a TSV of an older compare.sh
            String[] cells = new String[rows.size() + 1];
            cells[0] = m.label;
            double base = direct < 0 ? Double.NaN : Table.parse(rows.get(direct)[col]);
            if (m.plotName != null) dat.append('"').append(m.plotName).append('"');
            for (int i = 0; i < rows.size(); i++) {
                double v = Table.parse(rows.get(i)[col]);
                String cell = Double.isNaN(v) ? "-" : Table.num(v * m.scale);
                double rel = m.sense > 0 ? v / base : base / v;
                if (m.sense != 0 && i != direct && !Double.isNaN(rel) && !Double.isInfinite(rel)) {
                    cell += String.format(Locale.ROOT, " (%.2fx)", rel);
                }
                cells[i + 1] = cell;
                if (m.plotName != null && i != direct) {
                    dat.append('\t').append(Double.isNaN(rel) || Double.isInfinite(rel) ? "0" : String.format(Locale.ROOT, "%.3f", rel));
                }
            }
            if (m.plotName != null) dat.append('\n');
            t.row(cells);
        }
        t.print(System.out);
        System.out.println();
        System.out.println("In parentheses: performance relative to direct (1 = direct; for latencies direct/value, higher is better).");
        if (args.length > 1) Files.writeString(Path.of(args[1]), dat.toString());
        pairRatios(lines.subList(1, lines.size()), header);
        goals(lines.subList(1, lines.size()), header, "epoll-proxy");
        goals(lines.subList(1, lines.size()), header, "epoll-proxy-uring");
    }

    /**
     * Issue 27's goals, epoll-proxy against haproxy (both at their defaults, one thread each), warmed up:
     * at most 0.85x haproxy's CPU per connection and per round trip on 100 connections, and at least 1.1x
     * its throughput where the forwarder is the bottleneck (its CPU, in cores, is printed beside: near 1
     * core it is the bottleneck). Each ratio is ours / haproxy within a round, median over rounds; {@code ours}
     * is epoll-proxy at its defaults, or epoll-proxy-uring ({@code --io-uring}) when the run has it.
     */
    static void goals(List<String> lines, List<String> header, String ours) {
        Map<String, Map<String, String[]>> byRound = byRound(lines, header);
        String[][] goals = {
            {"conn_cpu_us", "conn_cores", "<=", "0.85", "CPU per connection"},
            {"pp100_cpu_us", "pp100_cores", "<=", "0.85", "ping-pong 100: CPU per round trip"},
            {"bulk_MBps", "bulk_cores", ">=", "1.10", "bulk MB/s"},
            {"pp100_rtps", "pp100_cores", ">=", "1.10", "ping-pong 100: round trips/s"},
            {"conn_per_s", "conn_cores", ">=", "1.10", "connections/s"},
        };
        List<String[]> rows = new ArrayList<>();
        for (String[] g : goals) {
            List<Double> rs = ratios(byRound, ours, "haproxy", header.indexOf(g[0]));
            if (rs.isEmpty()) continue;
            double median = median(rs);
            double limit = Double.parseDouble(g[3]);
            boolean met = g[2].equals("<=") ? median <= limit : median >= limit;
            List<Double> mine = ratios(byRound, ours, null, header.indexOf(g[1]));
            List<Double> theirs = ratios(byRound, "haproxy", null, header.indexOf(g[1]));
            rows.add(new String[] {g[4], String.format(Locale.ROOT, "%.2fx (%.2f-%.2f)", median, rs.get(0), rs.get(rs.size() - 1)),
                g[2] + " " + g[3] + "x", met ? "met" : "not met",
                String.format(Locale.ROOT, "%.2f / %.2f", mine.isEmpty() ? Double.NaN : median(mine), theirs.isEmpty() ? Double.NaN : median(theirs))});
        }
        if (rows.isEmpty()) return;
        Table t = new Table(new String[] {"goal, warmed up (" + ours + " / haproxy within each round, median over " + byRound.size()
                + " rounds, range)", "ratio", "goal", "", "forwarder CPU, cores: " + ours + " / haproxy"});
        for (String[] r : rows) t.row(r);
        System.out.println();
        t.print(System.out);
    }

    private static Map<String, Map<String, String[]>> byRound(List<String> lines, List<String> header) {
        int round = header.indexOf("round");
        Map<String, Map<String, String[]>> byRound = new LinkedHashMap<>();
        for (String l : lines) {
            String[] f = l.split("\t", -1);
            if (round >= 0 && f.length > round) byRound.computeIfAbsent(f[round], x -> new LinkedHashMap<>()).put(f[0], f);
        }
        return byRound;
    }

    /** a/b of column col in each round where both have it (b null: a's own figure), sorted. */
    private static List<Double> ratios(Map<String, Map<String, String[]>> byRound, String a, String b, int col) {
        List<Double> rs = new ArrayList<>();
        for (Map<String, String[]> r : byRound.values()) {
            String[] x = r.get(a);
            String[] y = b == null ? null : r.get(b);
            if (x == null || (b != null && y == null) || col < 0 || col >= x.length || (y != null && col >= y.length)) continue;
            double v = y == null ? Table.parse(x[col]) : Table.parse(x[col]) / Table.parse(y[col]);
            if (!Double.isNaN(v) && !Double.isInfinite(v)) rs.add(v);
        }
        Collections.sort(rs);
        return rs;
    }

    private static double median(List<Double> sorted) {
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    /** Each forwarder of ours against its peer: the figure compared and whether higher is better (+1) or lower (-1). */
    private static final String[][] PAIRS = {
        {"epoll-proxy", "haproxy"}, {"epoll-proxy", "rinetd"}, {"epoll-proxy-32k", "haproxy"}, {"epoll-proxy-c1", "epoll-proxy"},
        {"epoll-proxy", "epoll-proxy-baseline"}, {"epoll-proxy-uring", "haproxy"}, {"epoll-proxy-uring", "epoll-proxy"},
        {"epoll-proxy-16k", "epoll-proxy"}, {"epoll-proxy-32k", "epoll-proxy"}, {"epoll-proxy-128k", "epoll-proxy"},
        {"epoll-proxy-2t", "haproxy-2t"}, {"epoll-proxy-splice", "haproxy-splice"}, {"epoll-proxy-splice-256k", "haproxy-splice"},
    };
    /**
     * CPU per operation first: a throughput ratio under saturation of a shared machine swings by 20% between
     * rounds, the CPU a forwarder spends per operation much less.
     */
    private static final String[][] COMPARED = {
        {"conn_cpu_us", "-1", "CPU per connection"}, {"pp100_cpu_us", "-1", "ping-pong 100: CPU per round trip"},
        {"pp1_cpu_us", "-1", "ping-pong 1: CPU per round trip"}, {"bulk_cpu_s_per_GB", "-1", "bulk CPU per GB"},
        {"conn_user_us", "-1", "  user CPU per connection"}, {"conn_sys_us", "-1", "  system CPU per connection"},
        {"bulk_MBps", "+1", "bulk MB/s"}, {"pp1_rtps", "+1", "ping-pong 1: round trips/s"},
        {"pp100_rtps", "+1", "ping-pong 100: round trips/s"}, {"conn_per_s", "+1", "connections/s"},
        {"cold_conn_cpu_us", "-1", "from a cold start: CPU per connection"},
        {"cold_pp100_cpu_us", "-1", "from a cold start: ping-pong 100: CPU per round trip"},
        {"cold_pp1_cpu_us", "-1", "from a cold start: ping-pong 1: CPU per round trip"},
        {"cold_bulk_cpu_s_per_GB", "-1", "from a cold start: bulk CPU per GB"},
        {"cold_conn_per_s", "+1", "from a cold start: connections/s"},
        {"cold_pp100_rtps", "+1", "from a cold start: ping-pong 100: round trips/s"},
    };

    /**
     * Ratios between two forwarders computed within each round (both measured minutes apart at most),
     * then the median over the rounds: above 1 = ours ahead (more per second, or less CPU per operation).
     */
    static void pairRatios(List<String> lines, List<String> header) {
        pairRatios(lines, header, System.out);
    }

    /** As above, onto {@code out}; a figure that no round of a TSV has (an older compare.sh) is no row. */
    static void pairRatios(List<String> lines, List<String> header, java.io.PrintStream out) {
        int round = header.indexOf("round");
        if (round < 0) return;
        Map<String, Map<String, String[]>> byRound = new LinkedHashMap<>();
        for (String l : lines) {
            String[] f = l.split("\t", -1);
            if (f.length > round) byRound.computeIfAbsent(f[round], x -> new LinkedHashMap<>()).put(f[0], f);
        }
        List<String[]> pairs = new ArrayList<>();
        for (String[] p : PAIRS) {
            boolean seen = false;
            for (Map<String, String[]> r : byRound.values()) seen |= r.containsKey(p[0]) && r.containsKey(p[1]);
            if (seen) pairs.add(p);
        }
        if (pairs.isEmpty()) return;
        String[] head = new String[pairs.size() + 1];
        head[0] = "ratio within each round, median over " + byRound.size() + " rounds (above 1 = ours ahead)";
        for (int i = 0; i < pairs.size(); i++) head[i + 1] = pairs.get(i)[0] + " vs " + pairs.get(i)[1];
        Table t = new Table(head);
        for (String[] c : COMPARED) {
            int col = header.indexOf(c[0]);
            if (col < 0) continue;
            int sense = Integer.parseInt(c[1]);
            String[] cells = new String[pairs.size() + 1];
            cells[0] = c[2];
            for (int i = 0; i < pairs.size(); i++) {
                List<Double> rs = new ArrayList<>();
                for (Map<String, String[]> r : byRound.values()) {
                    String[] a = r.get(pairs.get(i)[0]);
                    String[] b = r.get(pairs.get(i)[1]);
                    if (a == null || b == null || col < 0 || col >= a.length || col >= b.length) continue;
                    double ratio = sense > 0 ? Table.parse(a[col]) / Table.parse(b[col]) : Table.parse(b[col]) / Table.parse(a[col]);
                    if (!Double.isNaN(ratio) && !Double.isInfinite(ratio)) rs.add(ratio);
                }
                Collections.sort(rs);
                int n = rs.size();
                cells[i + 1] = n == 0 ? "-" : String.format(Locale.ROOT, "%.2fx", n % 2 == 1 ? rs.get(n / 2) : (rs.get(n / 2 - 1) + rs.get(n / 2)) / 2);
                if (n > 1) cells[i + 1] += String.format(Locale.ROOT, " (%.2f-%.2f)", rs.get(0), rs.get(n - 1));
            }
            t.row(cells);
        }
        out.println();
        t.print(out);
    }

    /**
     * One row per forwarder (in order of first appearance): per column the median of that forwarder's
     * rounds, ignoring rounds without a figure ("-", "failed").
     */
    static List<String[]> medians(List<String> lines, int columns) {
        Map<String, List<String[]>> byForwarder = new LinkedHashMap<>();
        for (String l : lines) {
            String[] f = l.split("\t", -1);
            byForwarder.computeIfAbsent(f[0], x -> new ArrayList<>()).add(f);
        }
        List<String[]> out = new ArrayList<>();
        for (Map.Entry<String, List<String[]>> e : byForwarder.entrySet()) {
            String[] row = new String[columns];
            row[0] = e.getKey();
            for (int c = 1; c < columns; c++) {
                List<Double> vs = new ArrayList<>();
                for (String[] r : e.getValue()) {
                    double v = c < r.length ? Table.parse(r[c]) : Double.NaN;
                    if (!Double.isNaN(v)) vs.add(v);
                }
                Collections.sort(vs);
                int n = vs.size();
                row[c] = n == 0 ? "-" : Double.toString(n % 2 == 1 ? vs.get(n / 2) : (vs.get(n / 2 - 1) + vs.get(n / 2)) / 2);
            }
            out.add(row);
        }
        return out;
    }

    private CompareTable() {}
}
