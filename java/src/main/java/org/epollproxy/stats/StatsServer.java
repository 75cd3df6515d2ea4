package org.epollproxy.stats;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.epollproxy.runtime.ProxyServer;
import org.epollproxy.shim.SockAddr;

/**
 * {@code --stats}: a small HTTP endpoint on the JDK's built-in server, on its own thread.
 *
 * <ul>
 *   <li>{@code /metrics} Prometheus text ({@link MetricsPage});
 *   <li>{@code /connections} the open connections as JSON ({@link ConnectionsPage});
 *   <li>{@code /healthz} 200 "ok" when every loop answers, 503 naming the loops that do not.
 * </ul>
 *
 * Each request posts a task to every loop ({@code EventLoop.execute}), which copies its state on its
 * own thread ({@link LoopSnapshot#take}); the forwarding path takes no lock and shares no mutable
 * state with this thread. A loop that has not answered within {@link #LOOP_ANSWER_MS} is reported
 * as not responding instead of blocking the scrape.
 */
public final class StatsServer implements AutoCloseable {
    static final long LOOP_ANSWER_MS = 1000;
    private static final String PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8";
    private static final String JSON = "application/json";
    private static final String TEXT = "text/plain; charset=utf-8";

    private final HttpServer http;
    private volatile ProxyServer proxy;

    private StatsServer(HttpServer http) {
        this.http = http;
    }

    /** Binds {@code addr} now (so a taken port fails at start, before anything else listens); serves after {@link #start}. */
    public static StatsServer bind(SockAddr addr) throws IOException {
        HttpServer http = HttpServer.create(addr.toInetSocketAddress(), 16);
        StatsServer s = new StatsServer(http);
        s.route("/metrics", PROMETHEUS, snaps -> new Page(200, MetricsPage.render(snaps)));
        s.route("/connections", JSON, snaps -> new Page(200, ConnectionsPage.render(snaps)));
        s.route("/healthz", TEXT, s::health);
        return s;
    }

    /** Starts answering about {@code p}. */
    public void start(ProxyServer p) {
        this.proxy = p;
        http.start();
    }

    /** The bound address (the real port when 0 was asked for). */
    public SockAddr address() {
        InetSocketAddress a = http.getAddress();
        return SockAddr.of(a.getAddress(), a.getPort());
    }

    @Override
    public void close() {
        http.stop(0);
    }

    private record Page(int status, String body) {}

    private Page health(List<LoopSnapshot> snaps) {
        String dead = proxy.failure();
        if (dead != null) return new Page(503, dead + "\n");
        StringBuilder late = new StringBuilder();
        for (int i = 0; i < snaps.size(); i++) if (snaps.get(i) == null) late.append(late.length() == 0 ? "" : ", ").append(i);
        return late.length() == 0 ? new Page(200, "ok\n")
                : new Page(503, "loop " + late + " did not answer within " + LOOP_ANSWER_MS + " ms\n");
    }

    private void route(String path, String contentType, Function<List<LoopSnapshot>, Page> page) {
        http.createContext(path, ex -> {
            try (ex) {
                String method = ex.getRequestMethod();
                if (!ex.getRequestURI().getPath().equals(path)) {
                    send(ex, 404, TEXT, "no such page; try /metrics, /connections or /healthz\n", method);
                } else if (!method.equals("GET") && !method.equals("HEAD")) {
                    ex.getResponseHeaders().set("Allow", "GET, HEAD");
                    send(ex, 405, TEXT, "GET or HEAD only\n", method);
                } else {
                    Page p = page.apply(snapshots());
                    send(ex, p.status(), contentType, p.body(), method);
                }
            }
        });
    }

    private static void send(HttpExchange ex, int status, String contentType, String body, String method) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", contentType);
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        boolean head = method.equals("HEAD");
        ex.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    /** One snapshot per loop, taken on its thread; null for a loop that did not answer in time. */
    private List<LoopSnapshot> snapshots() {
        int n = proxy.loops().size();
        List<CompletableFuture<LoopSnapshot>> futures = new ArrayList<>();
        for (int i = 0; i < n; i++) futures.add(new CompletableFuture<>());
        proxy.onEachLoop((id, fl) -> {
            try {
                futures.get(id).complete(LoopSnapshot.take(fl));
            } catch (RuntimeException e) {
                futures.get(id).completeExceptionally(e);
            }
        });
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LOOP_ANSWER_MS);
        List<LoopSnapshot> out = new ArrayList<>();
        for (CompletableFuture<LoopSnapshot> f : futures) {
            try {
                out.add(f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
            } catch (TimeoutException | ExecutionException e) {
                out.add(null);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                out.add(null);
            }
        }
        return out;
    }
}
