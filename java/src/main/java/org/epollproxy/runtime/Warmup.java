package org.epollproxy.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.epollproxy.forward.Backend;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.Settings;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.SockAddr;

/**
 * Connections through the proxy's own code before it takes real traffic, so the JIT has compiled the hot
 * path by the time the {@code listening} line is printed: a restarted or upgraded proxy serves its first
 * second at the speed of its tenth instead of at the interpreter's.
 *
 * <p>A private forward on loopback (127.0.0.1, port 0, one loop, the real settings, its log lines written
 * nowhere) to an echo backend in this class; client threads connect, send 64 bytes, read them back and
 * close, as a connection-rate client does, until the time is up. Then everything is closed. Nothing of it
 * is visible: its connections are in no log, metric or live view. Any failure ends the warm-up early and
 * quietly: it may only make the start faster, never stop it.
 */
public final class Warmup {
    private static final int CLIENTS = 2;
    private static final int MESSAGE = 64;
    private static final int IO_TIMEOUT_MS = 2000;

    /** What a warm-up did: the connections it completed. */
    public record Result(int connections, long millis) {}

    private Warmup() {}

    /** Runs connections through a private forward for about {@code millis} ms; 0 does nothing. */
    public static Result run(Kernel kernel, Settings real, long millis) {
        if (millis <= 0) return new Result(0, 0);
        long started = System.nanoTime();
        long deadline = started + TimeUnit.MILLISECONDS.toNanos(millis);
        AtomicInteger done = new AtomicInteger();
        // One loop suffices for the JIT; the real buffer size, splice and timeouts, so the same code runs;
        // no trace, and no per-client limits, which would refuse a client that connects this often.
        Settings settings = real.toBuilder().threads(1).trace(false).maxConnections(0).maxPerClient(0).clientRate(0, 1).build();
        ProxyServer proxy = new ProxyServer(kernel, settings, new PrintStream(OutputStream.nullOutputStream()));
        ExecutorService echoes = Executors.newFixedThreadPool(CLIENTS, Warmup::daemon);
        try (ServerSocket backend = new ServerSocket(0, 64, InetAddress.getLoopbackAddress())) {
            Thread acceptor = daemon(() -> echo(backend, echoes));
            acceptor.start();
            SockAddr backendAddr = SockAddr.parse("127.0.0.1", backend.getLocalPort());
            List<Forward> bound = proxy.start(List.of(new Forward(SockAddr.parse("127.0.0.1", 0),
                    List.of(new Backend("warm-up", backendAddr, 1)))));
            int port = bound.get(0).bind().port();
            List<Thread> clients = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                Thread t = daemon(() -> {
                    byte[] out = new byte[MESSAGE], in = new byte[MESSAGE];
                    while (System.nanoTime() < deadline && cycle(port, out, in)) done.incrementAndGet();
                });
                clients.add(t);
                t.start();
            }
            for (Thread t : clients) t.join(millis + 5 * IO_TIMEOUT_MS);
        } catch (IOException | RuntimeException e) {
            // a machine without loopback, or no port to bind: start as before, only slower at first
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            try {
                proxy.stop(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            echoes.shutdownNow();
        }
        return new Result(done.get(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    }

    /** connect, 64 bytes there, 64 back, close; false on any error or a wrong reply. */
    private static boolean cycle(int port, byte[] out, byte[] in) {
        try (Socket s = new Socket()) {
            s.setSoTimeout(IO_TIMEOUT_MS);
            s.setTcpNoDelay(true);
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), IO_TIMEOUT_MS);
            s.getOutputStream().write(out);
            return readFully(s.getInputStream(), in);
        } catch (IOException e) {
            return false;
        }
    }

    private static void echo(ServerSocket server, ExecutorService workers) {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                workers.execute(() -> {
                    try (s) {
                        s.setSoTimeout(IO_TIMEOUT_MS);
                        byte[] b = new byte[MESSAGE];
                        if (readFully(s.getInputStream(), b)) s.getOutputStream().write(b);
                    } catch (IOException e) {
                        // the client went away: its cycle fails and the warm-up ends
                    }
                });
            } catch (IOException | java.util.concurrent.RejectedExecutionException e) {
                return; // closed at the end of the warm-up
            }
        }
    }

    private static boolean readFully(InputStream in, byte[] b) throws IOException {
        for (int got = 0, n; got < b.length; got += n) {
            n = in.read(b, got, b.length - got);
            if (n < 0) return false;
        }
        return true;
    }

    private static Thread daemon(Runnable r) {
        Thread t = new Thread(r, "warm-up");
        t.setDaemon(true);
        return t;
    }
}
