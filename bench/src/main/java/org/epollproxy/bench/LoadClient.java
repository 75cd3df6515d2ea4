package org.epollproxy.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The load client of {@code bench/compare.sh}: drives any forwarder in front of an {@link EchoServer}
 * and prints one line of {@code key=value} results. Every run is bounded in time.
 *
 * <pre>
 *   pingpong PORT CONNS SECONDS WARMUP   closed-loop 64-byte round trips on CONNS connections
 *   connrate PORT THREADS SECONDS WARMUP connect, 64 bytes there and back, close; THREADS at a time
 *   hold PORT COUNT SECONDS PID...       open COUNT connections, one round trip on each, keep them all
 *                                        open, measure the forwarder's memory (processes PID... and
 *                                        their children) before and while they are held
 *   memory PID...                        RSS and PSS of the processes and their children
 *   curve WARM_PORT PORT THREADS SECONDS WARMUP
 *                                        the connection rate of a forwarder from its first accepted
 *                                        connection, second by second: this client warms its own JIT
 *                                        on WARM_PORT (the backend, direct) for WARMUP, prints "warm",
 *                                        then tries PORT until the forwarder answers and counts the
 *                                        connections completed in each one-second window for SECONDS,
 *                                        and the ms from "warm" to the first answered connection
 * </pre>
 */
public final class LoadClient {
    private static final int SIZE = Wire.MESSAGE_SIZE;
    private static final int IO_TIMEOUT_MS = 5000;

    public static void main(String[] args) throws Exception {
        if (args.length < 2) usage();
        switch (args[0]) {
            case "pingpong":
                pingPong(port(args[1]), Integer.parseInt(args[2]), seconds(args[3]), seconds(args[4]));
                break;
            case "connrate":
                // an optional 6th argument: a file whose bytes are the request (route-compare.sh: a TLS ClientHello)
                connectionRate(port(args[1]), Integer.parseInt(args[2]), seconds(args[3]), seconds(args[4]),
                        args.length > 5 ? java.nio.file.Files.readAllBytes(java.nio.file.Path.of(args[5])) : null);
                break;
            case "hold":
                hold(port(args[1]), Integer.parseInt(args[2]), seconds(args[3]), pids(args, 4));
                break;
            case "curve":
                curve(port(args[1]), port(args[2]), Integer.parseInt(args[3]), (int) Double.parseDouble(args[4]), seconds(args[5]));
                break;
            case "memory":
                ProcessMemory m = ProcessMemory.ofTrees(pids(args, 1));
                System.out.println("memory processes=" + m.processes + " rss_kb=" + m.rssKb + " pss_kb=" + m.pssKb);
                break;
            default:
                usage();
        }
    }

    private static void usage() {
        System.err.println("usage: LoadClient pingpong PORT CONNS SECONDS WARMUP | connrate PORT THREADS SECONDS WARMUP [REQUEST_FILE]"
                + " | hold PORT COUNT SECONDS PID... | memory PID... | curve WARM_PORT PORT THREADS SECONDS WARMUP");
        System.exit(2);
    }

    private static int port(String s) {
        return Integer.parseInt(s);
    }

    private static long seconds(String s) {
        return (long) (Double.parseDouble(s) * 1e9);
    }

    private static List<Long> pids(String[] args, int from) {
        List<Long> out = new ArrayList<>();
        for (int i = from; i < args.length; i++) out.add(Long.parseLong(args[i]));
        return out;
    }

    // ---- ping-pong ----

    /** One connection's state in the closed loop: when its request left and how much of the reply came. */
    private static final class Conn {
        final SocketChannel ch;
        long sentAt;
        int got;

        Conn(SocketChannel ch) {
            this.ch = ch;
        }
    }

    private static void pingPong(int port, int conns, long runNanos, long warmupNanos) throws IOException {
        ByteBuffer out = Wire.pattern(SIZE);
        ByteBuffer in = ByteBuffer.allocateDirect(64 * 1024);
        LongList latencies = new LongList();
        long errors = 0;
        ProcessCpu cpu = ProcessCpu.fromEnv();
        boolean measuring = false;
        try (Selector sel = Selector.open()) {
            List<Conn> all = new ArrayList<>();
            for (int i = 0; i < conns; i++) {
                SocketChannel ch = Wire.connect(port);
                ch.configureBlocking(false);
                Conn c = new Conn(ch);
                ch.register(sel, SelectionKey.OP_READ, c);
                all.add(c);
            }
            long start = System.nanoTime();
            long measureFrom = start + warmupNanos;
            long end = measureFrom + runNanos;
            for (Conn c : all) send(c, out, start);
            long now = start;
            while (now < end) {
                if (sel.select(100) == 0) {
                    now = System.nanoTime();
                    continue;
                }
                now = System.nanoTime();
                if (!measuring && now >= measureFrom) {
                    measuring = true;
                    if (cpu != null) cpu.start();
                }
                for (SelectionKey key : sel.selectedKeys()) {
                    Conn c = (Conn) key.attachment();
                    int n = c.ch.read(in.clear());
                    if (n < 0) {
                        errors++;
                        key.cancel();
                        continue;
                    }
                    c.got += n;
                    while (c.got >= SIZE) { // a full reply: record it and send the next request
                        c.got -= SIZE;
                        if (c.sentAt >= measureFrom) latencies.add(now - c.sentAt);
                        send(c, out, now);
                    }
                }
                sel.selectedKeys().clear();
            }
            String cpuFields = cpu != null && measuring ? cpu.end(latencies.size()) : "";
            for (Conn c : all) c.ch.close();
            long[] l = latencies.sorted();
            double perSec = l.length / (runNanos / 1e9);
            System.out.printf("pingpong conns=%d round_trips_per_s=%.0f p50_us=%.1f p99_us=%.1f errors=%d%s%n",
                    conns, perSec, pct(l, 0.50) / 1e3, pct(l, 0.99) / 1e3, errors, cpuFields);
        }
    }

    private static void send(Conn c, ByteBuffer out, long now) throws IOException {
        out.clear();
        c.ch.write(out);
        if (out.hasRemaining()) throw new IOException("a 64-byte request did not fit an empty socket buffer");
        c.sentAt = now;
    }

    private static double pct(long[] sorted, double p) {
        if (sorted.length == 0) return Double.NaN;
        return sorted[Math.min(sorted.length - 1, (int) (p * sorted.length))];
    }

    // ---- connection rate ----

    private static void connectionRate(int port, int threads, long runNanos, long warmupNanos, byte[] request) throws InterruptedException {
        AtomicLong ok = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        long start = System.nanoTime();
        long measureFrom = start + warmupNanos;
        long end = measureFrom + runNanos;
        Thread[] ts = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            ts[t] = new Thread(() -> {
                byte[] req = request != null ? request : new byte[SIZE];
                byte[] resp = new byte[req.length];
                if (request == null) Arrays.fill(req, (byte) 'x');
                long now;
                while ((now = System.nanoTime()) < end) {
                    boolean good = cycle(port, req, resp);
                    if (now >= measureFrom) (good ? ok : failed).incrementAndGet();
                }
            });
            ts[t].start();
        }
        ProcessCpu cpu = ProcessCpu.fromEnv();
        String cpuFields = "";
        if (cpu != null) {
            // The measured window's start, then its end when the threads stop counting.
            for (long now; (now = System.nanoTime()) < measureFrom; ) Thread.sleep(Math.max(1, (measureFrom - now) / 1_000_000));
            cpu.start();
            for (Thread t : ts) t.join();
            cpuFields = cpu.end(ok.get() + failed.get());
        }
        for (Thread t : ts) t.join();
        System.out.printf("connrate threads=%d connections_per_s=%.0f ok=%d failed=%d%s%n",
                threads, ok.get() / (runNanos / 1e9), ok.get(), failed.get(), cpuFields);
    }

    /**
     * The forwarder is started after "warm" is printed, so its first second is measured with a client
     * that is already at full speed. Connections refused before the forwarder listens are not counted;
     * the clock starts at the first completed cycle.
     */
    private static void curve(int warmPort, int port, int threads, int windows, long warmupNanos) throws InterruptedException {
        byte[] req = new byte[SIZE];
        byte[] resp = new byte[SIZE];
        Arrays.fill(req, (byte) 'x');
        Thread[] ts = new Thread[threads];
        long warmEnd = System.nanoTime() + warmupNanos;
        for (int t = 0; t < threads; t++) {
            ts[t] = new Thread(() -> {
                byte[] q = req.clone(), r = new byte[SIZE];
                while (System.nanoTime() < warmEnd) cycle(warmPort, q, r);
            });
            ts[t].start();
        }
        for (Thread t : ts) t.join();
        System.out.println("warm");
        System.out.flush();
        long warmPrinted = System.nanoTime();
        long waitUntil = warmPrinted + 60_000_000_000L;
        while (!cycle(port, req, resp)) { // the forwarder is not listening yet
            if (System.nanoTime() > waitUntil) throw new IllegalStateException("nothing answered on port " + port + " in 60 s");
            Thread.sleep(1);
        }
        long start = System.nanoTime();
        long end = start + windows * 1_000_000_000L;
        AtomicLong failed = new AtomicLong();
        java.util.concurrent.atomic.AtomicLongArray done = new java.util.concurrent.atomic.AtomicLongArray(windows);
        for (int t = 0; t < threads; t++) {
            ts[t] = new Thread(() -> {
                byte[] q = req.clone(), r = new byte[SIZE];
                long now;
                while ((now = System.nanoTime()) < end) {
                    boolean good = cycle(port, q, r);
                    int w = (int) ((System.nanoTime() - start) / 1_000_000_000L);
                    if (!good) failed.incrementAndGet();
                    else if (w < windows) done.incrementAndGet(w);
                }
            });
            ts[t].start();
        }
        // The forwarder's CPU (all its threads, the JIT's included) in each window: CPU per connection is
        // what a busy machine changes least, so the first second's cost shows even when its rate cannot.
        long pid = forwarderPid();
        long[] ticks = new long[windows + 1];
        ticks[0] = pid > 0 ? ProcessCpu.ticksOf(pid) : 0;
        for (int w = 1; w <= windows && pid > 0; w++) {
            long at = start + w * 1_000_000_000L;
            for (long now; (now = System.nanoTime()) < at; ) Thread.sleep(Math.max(1, (at - now) / 1_000_000));
            ticks[w] = ProcessCpu.ticksOf(pid);
        }
        for (Thread t : ts) t.join();
        StringBuilder rates = new StringBuilder();
        for (int w = 0; w < windows; w++) rates.append(w == 0 ? "" : ",").append(done.get(w));
        StringBuilder cpu = new StringBuilder();
        for (int w = 0; w < windows && pid > 0; w++) {
            long n = done.get(w);
            cpu.append(w == 0 ? "" : ",").append(n == 0 ? "-" : String.format(java.util.Locale.ROOT, "%.1f",
                    (ticks[w + 1] - ticks[w]) * 1e6 / ProcessCpu.TICKS_PER_S / n));
        }
        // first_ms: from "warm" (the caller starts the forwarder on it) to the first answered connection
        System.out.println("curve threads=" + threads + " per_second=" + rates + " failed=" + failed.get()
                + " first_ms=" + (start - warmPrinted) / 1_000_000 + (pid > 0 ? " cpu_us_per_conn=" + cpu : ""));
    }

    /** The forwarder's PID from the file CURVE_PID_FILE names (written as it is started), or 0. */
    private static long forwarderPid() throws InterruptedException {
        String file = System.getenv("CURVE_PID_FILE");
        if (file == null || file.isBlank()) return 0;
        for (int i = 0; i < 100; i++) {
            try {
                String s = java.nio.file.Files.readString(java.nio.file.Path.of(file)).trim();
                if (!s.isEmpty()) return Long.parseLong(s);
            } catch (IOException | NumberFormatException e) {
                // not written yet
            }
            Thread.sleep(10);
        }
        return 0;
    }

    /** connect, 64 bytes there, 64 back, close; false on any error or short reply. */
    private static boolean cycle(int port, byte[] req, byte[] resp) {
        try (Socket s = open(port)) {
            s.getOutputStream().write(req);
            return readFully(s.getInputStream(), resp) && Arrays.equals(req, resp);
        } catch (IOException e) {
            return false;
        }
    }

    private static Socket open(int port) throws IOException {
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true);
            s.setSoTimeout(IO_TIMEOUT_MS);
            s.connect(new InetSocketAddress("127.0.0.1", port), IO_TIMEOUT_MS);
            return s;
        } catch (IOException e) {
            s.close();
            throw e;
        }
    }

    private static boolean readFully(InputStream in, byte[] b) throws IOException {
        int got = 0;
        while (got < b.length) {
            int n = in.read(b, got, b.length - got);
            if (n < 0) return false;
            got += n;
        }
        return true;
    }

    // ---- many open connections ----

    private static void hold(int port, int count, long maxNanos, List<Long> pids) throws IOException, InterruptedException {
        ProcessMemory before = ProcessMemory.ofTrees(pids);
        long deadline = System.nanoTime() + maxNanos;
        byte[] req = new byte[SIZE];
        Arrays.fill(req, (byte) 'h');
        List<Socket> open = new ArrayList<>();
        int connectFailures = 0;
        int failuresInARow = 0;
        // A forwarder out of fds stops accepting: after 3 failed connects in a row, stop trying.
        for (int i = 0; i < count && failuresInARow < 3 && System.nanoTime() < deadline; i++) {
            try {
                Socket s = open(port);
                open.add(s);
                OutputStream o = s.getOutputStream();
                o.write(req);
                failuresInARow = 0;
            } catch (IOException e) {
                connectFailures++;
                failuresInARow++;
            }
        }
        int served = 0;
        byte[] resp = new byte[SIZE];
        long readDeadline = System.nanoTime() + maxNanos; // the replies get their own time budget
        for (Socket s : open) {
            if (System.nanoTime() > readDeadline) break;
            try {
                if (readFully(s.getInputStream(), resp) && Arrays.equals(req, resp)) served++;
            } catch (IOException e) {
                // counted as not served
            }
        }
        Thread.sleep(1000); // let the forwarder settle (lazy allocations, freed buffers) before measuring
        ProcessMemory held = ProcessMemory.ofTrees(pids);
        for (Socket s : open) s.close();
        long n = Math.max(1, served);
        System.out.printf("hold count=%d opened=%d served=%d connect_failures=%d processes=%d rss_before_kb=%d rss_held_kb=%d"
                        + " rss_per_conn_bytes=%d pss_before_kb=%d pss_held_kb=%d pss_per_conn_bytes=%d%n",
                count, open.size(), served, connectFailures, held.processes, before.rssKb, held.rssKb,
                (held.rssKb - before.rssKb) * 1024 / n, before.pssKb, held.pssKb, (held.pssKb - before.pssKb) * 1024 / n);
    }

    /** A growable long array: no boxing while recording latencies. */
    private static final class LongList {
        private long[] a = new long[1 << 16];
        private int n;

        void add(long v) {
            if (n == a.length) a = Arrays.copyOf(a, n * 2);
            a[n++] = v;
        }

        int size() {
            return n;
        }

        long[] sorted() {
            long[] s = Arrays.copyOf(a, n);
            Arrays.sort(s);
            return s;
        }
    }

    private LoadClient() {}
}
