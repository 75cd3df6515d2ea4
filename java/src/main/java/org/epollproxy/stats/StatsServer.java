package org.epollproxy.stats;

import static org.epollproxy.shim.Epoll.EPOLLIN;
import static org.epollproxy.stats.StatsLimits.CLIENT_SNDBUF;
import static org.epollproxy.stats.StatsLimits.MAX_CLIENTS;
import static org.epollproxy.stats.StatsLimits.MAX_FILTERS_PER_ROUND;
import static org.epollproxy.stats.StatsLimits.MAX_HELD_BYTES;
import static org.epollproxy.stats.StatsLimits.PROBE_RESERVE;
import static org.epollproxy.stats.StatsLimits.WRITE_BUDGET;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.epollproxy.forward.ForwardingLoop;
import org.epollproxy.forward.Sockets;
import org.epollproxy.loop.EventLoop;
import org.epollproxy.loop.Handler;
import org.epollproxy.loop.Timer;
import org.epollproxy.runtime.ProxyServer;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.NativeBuffer;
import org.epollproxy.shim.Net;
import org.epollproxy.shim.Shim;
import org.epollproxy.shim.SockAddr;
import org.epollproxy.shim.SyscallException;

/**
 * {@code --stats}: a small HTTP/1.1 endpoint on its own non-blocking event loop (this project's
 * {@link EventLoop}, one thread, no thread per client).
 *
 * <ul>
 *   <li>{@code /} the status page, HTML that draws the pages below in the browser ({@link StatusPage});
 *   <li>{@code /metrics} Prometheus text ({@link MetricsPage});
 *   <li>{@code /connections} the open connections as JSON ({@link ConnectionsPage});
 *   <li>{@code /backends} every backend's state as JSON ({@link BackendsPage});
 *   <li>{@code /healthz} 200 "ok" when every loop answers, 503 naming a loop that died or does not
 *       answer, 503 "draining" during a drain (readiness);
 *   <li>{@code /livez} the same without the drain (liveness).
 * </ul>
 *
 * Each client sends one request (at most {@link HttpConnection#MAX_REQUEST} bytes) and gets one answer,
 * then the connection closes; a client that has not sent its request, or not taken its answer, within
 * the client timeout ({@link #CLIENT_TIMEOUT_MS}) is closed, so idle or slow clients delay nobody. Each
 * request asks every forwarding loop for a copy of its state ({@link SnapshotRound}), taken on the loop's
 * own thread; only {@code /connections} lists the connections one by one. A loop that has not answered
 * within {@link #LOOP_ANSWER_MS} is reported as not responding instead of holding up the answer.
 *
 * <p>Probes answer within milliseconds whatever else is asked ({@code /healthz} took 4 s behind 1,000
 * scrapes when each scrape had a round and a rendering of its own): requests for the same page share one
 * round in flight ({@link SharedRounds}), so the work is bounded per page, not per request, and a probe
 * waits behind at most one task per page on each loop; and {@link StatsLimits#PROBE_RESERVE} connections beyond
 * {@link StatsLimits#MAX_CLIENTS} are accepted for probes only, so clients holding every regular slot do not shut
 * probes out; when those are taken too, a new connection closes the oldest client that has not sent its
 * request yet (or lingers after its answer).
 */
public final class StatsServer implements AutoCloseable, Handler {
    static final long LOOP_ANSWER_MS = 1000;
    /** How long a client may take to send its request, and then to read the answer. */
    public static final long CLIENT_TIMEOUT_MS = 5000;
    private static final int BACKLOG = 4096;
    private static final int SCRATCH = 64 * 1024;
    static final String PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8";
    static final String JSON = "application/json";
    static final String TEXT = "text/plain; charset=utf-8";
    /** Every path served, for the start-up line: the status page, then the machine-readable pages and the probes. */
    public static final String PAGES = "/ /metrics /connections /backends /healthz /livez";

    private final Kernel k;
    private final EventLoop loop;
    private final int listenFd;
    private final long listenToken;
    private final SockAddr address;
    private final long clientTimeoutNanos;
    private final NativeBuffer scratch = NativeBuffer.allocate(SCRATCH);
    /** In accept order (no HttpConnection overrides equals): the first idle one is the oldest. */
    private final Set<HttpConnection> clients = new LinkedHashSet<>();
    private final SharedRounds rounds = new SharedRounds();
    private final RoundPacing pacing = new RoundPacing();
    private final HeldAnswers held = new HeldAnswers();
    private final long maxHeldBytes;
    /** Each loop's latest /metrics snapshot, for a loop that does not answer a scrape (stats loop only). */
    private LoopSnapshot[] lastAnswered = new LoopSnapshot[0];
    /** Snapshot rounds started, for tests: requests that could share a round must not start one each. */
    private volatile long roundsStarted;
    private int budget;
    private long budgetAt = Long.MIN_VALUE;
    private boolean pausedForFds;
    private volatile ProxyServer proxy;
    private Thread thread;
    private final Timer resumeAccepting = new Timer() {
        @Override
        protected void onTimer(long now) {
            pausedForFds = false;
            updateAccepting();
        }
    };

    private StatsServer(Kernel k, SockAddr addr, long clientTimeoutMs, long maxHeldBytes) {
        this.k = k;
        this.maxHeldBytes = maxHeldBytes;
        this.clientTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(clientTimeoutMs);
        this.listenFd = Sockets.listenTcp(k, addr, false, BACKLOG);
        try {
            this.address = Sockets.localAddress(k, listenFd);
            this.loop = new EventLoop(k, -1, msg -> System.err.println("epoll-proxy: stats " + msg));
        } catch (RuntimeException e) {
            k.close(listenFd);
            throw e;
        }
        this.listenToken = loop.register(listenFd, this);
        updateAccepting();
    }

    /** Binds {@code addr} now (so a taken port fails at start, before anything else listens); serves after {@link #start}. */
    public static StatsServer bind(SockAddr addr) throws IOException {
        return bind(Shim.load(), addr, CLIENT_TIMEOUT_MS);
    }

    /** As {@link #bind(SockAddr)}, over {@code k}, closing clients that take longer than {@code clientTimeoutMs}. */
    public static StatsServer bind(Kernel k, SockAddr addr, long clientTimeoutMs) throws IOException {
        return bind(k, addr, clientTimeoutMs, MAX_HELD_BYTES);
    }

    /** As above, answering 503 to new renderings while clients hold more than {@code maxHeldBytes} of answers. */
    public static StatsServer bind(Kernel k, SockAddr addr, long clientTimeoutMs, long maxHeldBytes) throws IOException {
        try {
            return new StatsServer(k, addr, clientTimeoutMs, maxHeldBytes);
        } catch (SyscallException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /** Starts answering about {@code p}, on a thread of its own. */
    public synchronized void start(ProxyServer p) {
        this.proxy = p;
        thread = new Thread(this::run, "epoll-stats");
        thread.setDaemon(true); // never what keeps the JVM alive
        thread.start();
    }

    private void run() {
        try {
            loop.run();
        } finally {
            shutdown();
        }
    }

    /** The bound address (the real port when 0 was asked for). */
    public SockAddr address() {
        return address;
    }

    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t == null) { // never started: nothing runs the loop, close here
            shutdown();
            return;
        }
        loop.stop();
        try {
            t.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private synchronized void shutdown() {
        if (loop.liveSlots() == 0 && clients.isEmpty()) return;
        for (HttpConnection c : List.copyOf(clients)) c.close();
        loop.cancel(resumeAccepting);
        loop.release(listenToken, false);
        k.close(listenFd);
        loop.close();
    }

    // ---- for HttpConnection (stats loop thread) ----

    EventLoop loop() {
        return loop;
    }

    long clientTimeoutNanos() {
        return clientTimeoutNanos;
    }

    long scratch() {
        return scratch.address();
    }

    int scratchSize() {
        return SCRATCH;
    }

    /** How much of {@code want} bytes a large answer may write now (0: wait for the next iteration). */
    int writeAllowance(int want) {
        if (loop.now() != budgetAt) { // a new iteration: the clock is read once per wakeup
            budgetAt = loop.now();
            budget = WRITE_BUDGET;
        }
        int n = Math.min(want, budget);
        budget -= n;
        return n;
    }

    private LoopSnapshot[] lastAnswered(int loops) {
        if (lastAnswered.length != loops) lastAnswered = new LoopSnapshot[loops];
        return lastAnswered;
    }

    /** The large answers clients are being sent. */
    HeldAnswers held() {
        return held;
    }

    long roundsStarted() {
        return roundsStarted;
    }

    /** A round of {@code page} is under way or waiting to start; stats loop only (tests). */
    boolean roundPending(String page) {
        return rounds.running(page);
    }

    /** Part of an allowance that the socket did not take. */
    void unused(int bytes) {
        budget += bytes;
    }

    void opened(HttpConnection c) {
        clients.add(c);
    }

    void closed(HttpConnection c) {
        clients.remove(c);
        updateAccepting();
    }

    // ---- accepting ----

    @Override
    public void onEvent(int events) {
        while (!pausedForFds && (!full() || oldestIdle() != null)) {
            int fd = k.accept(listenFd, 0);
            if (fd == -Errno.EAGAIN) break;
            if (fd == -Errno.EMFILE || fd == -Errno.ENFILE || fd == -Errno.ENOBUFS || fd == -Errno.ENOMEM) {
                pausedForFds = true; // the client waits in the backlog; retry in 100 ms rather than spin
                loop.schedule(resumeAccepting, loop.now() + 100_000_000L);
                break;
            }
            if (fd < 0) continue; // ECONNABORTED and the like: that client is gone
            // Every slot taken: the oldest client that has asked nothing yet (or has its answer) makes room.
            // Waiting for a slot instead kept a probe in the backlog behind 1,088 idle connections until they
            // timed out, and an attacker reconnecting them kept it there for good.
            if (full()) oldestIdle().close();
            k.setsockopt_int(fd, Net.SOL_SOCKET, Net.SO_SNDBUF, CLIENT_SNDBUF); // best effort: a failure leaves the default
            new HttpConnection(this, fd, clients.size() >= MAX_CLIENTS); // lists itself in clients until it closes
        }
        updateAccepting();
    }

    @Override
    public void onFailure(RuntimeException e) {
        // Keep listening: the client involved is the only loss, and the loop logged it.
    }

    private void updateAccepting() {
        if (loop.isStopping()) return;
        loop.setInterest(listenToken, !pausedForFds && (!full() || oldestIdle() != null) ? EPOLLIN : 0);
    }

    /** A client became idle (it has its answer): one more that may make room when every slot is taken. */
    void idled() {
        if (full()) updateAccepting();
    }

    private boolean full() {
        return clients.size() >= MAX_CLIENTS + PROBE_RESERVE;
    }

    /** The oldest client that is still sending its request or lingers after its answer; null if none. */
    private HttpConnection oldestIdle() {
        for (HttpConnection c : clients) if (c.idle()) return c;
        return null;
    }

    // ---- routing ----

    /** A whole request head arrived on {@code c}: answer it, now or once the loops have answered. */
    void serve(HttpConnection c, String head) {
        RequestLine line = RequestLine.parse(head);
        if (line == null) {
            c.respond(400, TEXT, "bad request: expected 'GET /metrics HTTP/1.1'\n", false, null);
            return;
        }
        String method = line.method();
        String path = line.path();
        String query = line.query();
        boolean head_ = method.equals("HEAD");
        Function<ForwardingLoop, LoopSnapshot> take;
        BiFunction<List<LoopSnapshot>, ConnectionFilter, String> render;
        ConnectionFilter filter = ConnectionFilter.ALL;
        ProxyServer p = proxy;
        switch (path) {
            case "/metrics":
                take = fl -> LoopSnapshot.take(fl, false);
                render = (snaps, all) -> MetricsPage.render(snaps, lastAnswered(snaps.size())) + BackendMetrics.render(p.backendPool().snapshot())
                        + NameMetrics.render(p.backendPool().names()) + RouteMetrics.render(p.backendPool().routedSnapshot())
                        + TlsMetricsPage.render(p.forwards()) + ClientTableMetrics.render(p) + ProcessMetrics.render();
                break;
            case "/backends": // the pool's own snapshot: no loop is asked
                take = null;
                render = null;
                break;
            case "/connections":
                try {
                    filter = ConnectionFilter.parse(query);
                } catch (IllegalArgumentException e) {
                    c.respond(400, TEXT, e.getMessage() + "\n", head_, null);
                    return;
                }
                take = fl -> LoopSnapshot.take(fl, true);
                render = ConnectionsPage::render;
                break;
            case "/": // the status page: static, it fetches the rest itself
                if (method.equals("GET") || head_) c.respond(200, StatusPage.TYPE, StatusPage.BYTES, head_, null);
                else c.respond(405, TEXT, "GET or HEAD only\n", false, "GET, HEAD");
                return;
            case "/healthz":
            case "/livez":
                take = fl -> Probes.ALIVE;
                render = null;
                break;
            default:
                c.respond(404, TEXT, "no such page; try /, /metrics, /connections, /backends, /healthz or /livez\n", head_, null);
                return;
        }
        if (!method.equals("GET") && !head_) {
            c.respond(405, TEXT, "GET or HEAD only\n", false, "GET, HEAD");
            return;
        }
        boolean probe = render == null && take != null;
        if (c.probeOnly() && !probe) {
            c.respond(503, TEXT, "busy: " + MAX_CLIENTS + " clients; only /healthz and /livez are answered now\n", head_, null);
            return;
        }
        String page = roundKey(path, probe);
        if (!probe && held.bytes() >= maxHeldBytes && !rounds.running(page)) { // a new rendering would add one more copy
            c.respond(503, TEXT, "busy: " + (held.bytes() >> 10) + " KiB of answers wait for clients to read them; retry in a few seconds\n", head_, null);
            return;
        }
        if (!rounds.admits(page, filter, MAX_FILTERS_PER_ROUND)) {
            c.respond(503, TEXT, "busy: " + MAX_FILTERS_PER_ROUND + " different /connections filters are being answered; retry in a few seconds\n", head_, null);
            return;
        }
        if (take == null) {
            c.respond(200, JSON, BackendsPage.render(p.backendPool().snapshot()), head_, null);
            return;
        }
        boolean readiness = path.equals("/healthz");
        String dead = p.failure();
        if (render == null && dead != null) {
            c.respond(503, TEXT, dead + "\n", head_, null);
            return;
        }
        String type = path.equals("/metrics") ? PROMETHEUS : path.equals("/connections") ? JSON : TEXT;
        boolean paced = path.equals("/connections");
        rounds.join(page, new SharedRounds.Waiter(c, head_, readiness, filter), () -> {
            Runnable startRound = () -> {
                roundsStarted++;
                long startedAt = loop.now();
                SnapshotRound.start(loop, p, take, snaps -> {
                    if (paced) pacing.ran(startedAt, loop.now());
                    List<SharedRounds.Waiter> waiting = rounds.finish(page);
                    if (probe) {
                        for (SharedRounds.Waiter w : waiting) Probes.answer(w.client(), snaps, p, w.head(), w.readiness());
                        return;
                    }
                    Map<ConnectionFilter, byte[]> bodies = new HashMap<>(); // rendered once per filter (by value) for all
                    for (SharedRounds.Waiter w : waiting) {
                        byte[] body = bodies.computeIfAbsent(w.filter(), f -> render.apply(snaps, f).getBytes(StandardCharsets.UTF_8));
                        w.client().respond(200, type, body, w.head(), null);
                    }
                });
            };
            if (!paced || pacing.notBefore() <= loop.now()) {
                startRound.run();
                return;
            }
            loop.schedule(new Timer() { // too soon after the last one: this round, and whoever joins it, waits
                @Override
                protected void onTimer(long now) {
                    startRound.run();
                }
            }, pacing.notBefore());
        });
    }

    /**
     * Which requests share one snapshot round: /healthz and /livez share one (it only asks "alive?"); every
     * /connections request shares one whatever its filters, each distinct filter then rendered once from it.
     * A round per filter let 1,000 requests with 1,000 filters (client=10.0.0.1, =10.0.0.2, ...) each have
     * every loop copy every connection: 1,000 copies of 50,000 connections on the forwarding loops' heap.
     */
    static String roundKey(String path, boolean probe) {
        return probe ? "probe" : path;
    }
}
