package org.epollproxy.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A bounded soak of the packaged proxy on loopback: starts the jar (its own child, stopped by pid at
 * the end) in front of an in-process echo backend, runs client threads that connect, send random
 * amounts, check the echo byte for byte and close (a few reset mid-transfer instead), and prints a line
 * per interval with the proxy's RSS, open fds and CPU and the traffic it carried. A slow leak shows as a
 * column that keeps growing. Run through bench/soak.sh.
 *
 * <pre>
 *   java -cp bench/target/benchmarks.jar org.epollproxy.bench.Soak JAR [MINUTES] [CLIENTS] [INTERVAL_S]
 * </pre>
 */
public final class Soak {
    private static final AtomicLong connections = new AtomicLong();
    private static final AtomicLong bytes = new AtomicLong();
    private static final AtomicLong resets = new AtomicLong();
    private static final AtomicLong errors = new AtomicLong();
    private static final AtomicBoolean running = new AtomicBoolean(true);

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: Soak JAR [MINUTES] [CLIENTS] [INTERVAL_S]");
            System.exit(2);
        }
        Path jar = Path.of(args[0]);
        double minutes = args.length > 1 ? Double.parseDouble(args[1]) : 3;
        int clients = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        int interval = args.length > 3 ? Integer.parseInt(args[3]) : 10;

        ServerSocket backend = new ServerSocket(0, 512, InetAddress.getLoopbackAddress());
        daemon(() -> echo(backend));
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "-Xmx64m"));
        if (Runtime.version().feature() >= 23) cmd.add("--sun-misc-unsafe-memory-access=allow");
        cmd.addAll(List.of("-jar", jar.toString(), "--quiet", "-L", "0:127.0.0.1:" + backend.getLocalPort()));
        Process proxy = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        long pid = proxy.pid();
        try {
            String line = new BufferedReader(new InputStreamReader(proxy.getInputStream(), StandardCharsets.UTF_8)).readLine();
            Matcher m = Pattern.compile("listening tcp 127\\.0\\.0\\.1:(\\d+) .*").matcher(line == null ? "" : line);
            if (!m.matches()) throw new IllegalStateException("the proxy did not start: " + line);
            int port = Integer.parseInt(m.group(1));
            System.out.printf("soak: proxy pid %d on 127.0.0.1:%d, %d clients, %.1f min, a line every %d s%n",
                    pid, port, clients, minutes, interval);
            System.out.println("   t_s  rss_kib  fds  cpu_%   conn/s    MiB/s   resets  errors");
            for (int i = 0; i < clients; i++) {
                long seed = i;
                daemon(() -> client(port, seed));
            }
            long end = System.nanoTime() + (long) (minutes * 60e9);
            long start = System.nanoTime();
            long lastConn = 0, lastBytes = 0, lastCpu = cpuTicks(pid), lastT = start;
            while (System.nanoTime() < end) {
                Thread.sleep(interval * 1000L);
                long now = System.nanoTime();
                double dt = (now - lastT) / 1e9;
                long c = connections.get(), b = bytes.get(), cpu = cpuTicks(pid);
                System.out.printf("%6.0f %8d %4d %6.1f %8.0f %8.1f %8d %7d%n", (now - start) / 1e9, rssKiB(pid), fds(pid),
                        (cpu - lastCpu) / 100.0 / dt * 100, (c - lastConn) / dt, (b - lastBytes) / dt / 1048576.0,
                        resets.get(), errors.get());
                lastConn = c;
                lastBytes = b;
                lastCpu = cpu;
                lastT = now;
            }
        } finally {
            running.set(false);
            proxy.destroy(); // SIGTERM to the child we started
            proxy.waitFor();
            backend.close();
        }
        System.out.printf("soak: %d connections, %.1f MiB echoed and checked, %d resets, %d errors%n",
                connections.get(), bytes.get() / 1048576.0, resets.get(), errors.get());
        System.exit(errors.get() == 0 ? 0 : 1);
    }

    /** One client thread: connect, send 1 B..256 KiB, check the echo, close; every 20th resets mid-way. */
    private static void client(int port, long seed) {
        Random r = new Random(seed);
        while (running.get()) {
            byte[] data = new byte[1 + r.nextInt(r.nextInt(10) == 0 ? 256 * 1024 : 4096)];
            r.nextBytes(data);
            boolean reset = r.nextInt(20) == 0;
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                s.setSoTimeout(30_000);
                OutputStream out = s.getOutputStream();
                InputStream in = s.getInputStream();
                Thread w = new Thread(() -> {
                    try {
                        out.write(data);
                        if (!reset) s.shutdownOutput();
                    } catch (IOException ignored) {
                        // the reader notices
                    }
                });
                w.start();
                if (reset) {
                    in.readNBytes(Math.min(data.length, 1 + r.nextInt(1024)));
                    s.setSoLinger(true, 0);
                    resets.incrementAndGet();
                } else {
                    byte[] back = in.readAllBytes();
                    if (!Arrays.equals(data, back)) throw new IOException("echo mismatch: " + data.length + " bytes sent, " + back.length + " back");
                    bytes.addAndGet(data.length);
                }
                w.join();
                connections.incrementAndGet();
            } catch (IOException | InterruptedException e) {
                if (running.get()) {
                    errors.incrementAndGet();
                    System.err.println("soak client " + seed + ": " + e);
                }
            }
        }
    }

    private static void echo(ServerSocket server) {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                daemon(() -> {
                    try (s) {
                        s.getInputStream().transferTo(s.getOutputStream());
                        s.shutdownOutput();
                    } catch (IOException ignored) {
                        // reset by a client
                    }
                });
            } catch (IOException e) {
                return;
            }
        }
    }

    private static void daemon(Runnable r) {
        Thread t = new Thread(r);
        t.setDaemon(true);
        t.start();
    }

    private static long rssKiB(long pid) throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (l.startsWith("VmRSS:")) return Long.parseLong(l.replaceAll("[^0-9]", ""));
        }
        return -1;
    }

    private static long fds(long pid) throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return s.count();
        }
    }

    /** utime + stime in clock ticks (USER_HZ = 100). */
    private static long cpuTicks(long pid) throws IOException {
        String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    private Soak() {}
}
