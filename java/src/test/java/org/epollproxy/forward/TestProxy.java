package org.epollproxy.forward;

import org.epollproxy.runtime.ProxyServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.Shim;
import org.epollproxy.shim.SockAddr;

/** The real proxy, in this JVM, over the real shim: started on 127.0.0.1:0, its stderr captured. */
final class TestProxy implements AutoCloseable {
    final ProxyServer proxy;
    final List<Forward> forwards;
    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();

    TestProxy(Settings settings, int... backendPorts) {
        this(settings, tcpForwards(backendPorts));
    }

    TestProxy(Settings settings, List<Forward> fs) {
        this(Shim.load(), settings, fs);
    }

    /** Over {@code kernel}: the shim, or a test's decorator of it. */
    TestProxy(Kernel kernel, Settings settings, int... backendPorts) {
        this(kernel, settings, tcpForwards(backendPorts));
    }

    TestProxy(Kernel kernel, Settings settings, List<Forward> fs) {
        proxy = new ProxyServer(kernel, settings, new PrintStream(errBytes, true, StandardCharsets.UTF_8));
        forwards = proxy.start(fs);
    }

    /** Runs {@code f} on loop {@code i}'s own thread (where its state may be read) and returns its result. */
    <T> T onLoop(int i, Function<ForwardingLoop, T> f) throws Exception {
        CompletableFuture<T> result = new CompletableFuture<>();
        ForwardingLoop fw = proxy.forwardingLoops().get(i);
        proxy.loops().get(i).execute(() -> result.complete(f.apply(fw)));
        return result.get(10, TimeUnit.SECONDS);
    }

    /** Forward {@code f}'s counters summed over every loop, each read on its loop's thread. */
    ForwardStats stats(int f) throws Exception {
        ForwardStats total = new ForwardStats();
        for (int i = 0; i < proxy.loops().size(); i++) {
            ForwardStats one = onLoop(i, fw -> {
                ForwardStats copy = new ForwardStats();
                copy.add(fw.forwardStats().get(f));
                return copy;
            });
            total.add(one);
        }
        return total;
    }

    static List<Forward> tcpForwards(int... backendPorts) {
        List<Forward> fs = new ArrayList<>();
        for (int port : backendPorts) fs.add(new Forward(SockAddr.parse("127.0.0.1", 0), List.of(backend(port))));
        return fs;
    }

    static Backend backend(int port) {
        return new Backend("127.0.0.1", SockAddr.parse("127.0.0.1", port));
    }

    TestProxy(int backendPort) {
        this(Settings.DEFAULTS, backendPort);
    }

    int port(int i) {
        return forwards.get(i).bind().port();
    }

    int port() {
        return port(0);
    }

    Socket connect() throws java.io.IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port()), 5000);
        s.setSoTimeout(20_000);
        return s;
    }

    String log() {
        synchronized (errBytes) {
            return errBytes.toString(StandardCharsets.UTF_8);
        }
    }

    /** Waits up to {@link #AWAIT_S} s for a log line containing {@code text}. */
    void awaitLog(String text) {
        await(() -> log().contains(text), "log line with '" + text + "', log so far:\n" + log());
    }

    /** How long {@link #await} waits: a condition a loaded machine (load 25 on 2 cores) may take seconds to meet. */
    static final int AWAIT_S = 30;

    static void await(BooleanSupplier cond, String what) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(AWAIT_S);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > end) throw new AssertionError("timed out waiting for " + what);
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (!proxy.stop(5, TimeUnit.SECONDS)) throw new AssertionError("proxy did not stop within 5 s");
    }
}
