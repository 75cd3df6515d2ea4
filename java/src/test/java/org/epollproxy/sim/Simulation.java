package org.epollproxy.sim;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.epollproxy.forward.AccessRules;
import org.epollproxy.forward.Backend;
import org.epollproxy.forward.BufferPool;
import org.epollproxy.forward.PipePool;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.ForwardStats;
import org.epollproxy.forward.ForwardingLoop;
import org.epollproxy.forward.Log;
import org.epollproxy.forward.ProxyProtocol;
import org.epollproxy.forward.Settings;
import org.epollproxy.forward.Sockets;
import org.epollproxy.forward.tcp.TcpListener;
import org.epollproxy.forward.udp.UdpListener;
import org.epollproxy.loop.EventLoop;
import org.epollproxy.shim.SockAddr;

/**
 * One seeded run of the production {@link EventLoop}, {@link ForwardingLoop}, TcpListener and Pair over
 * {@link SimKernel}: random forwards and backends (up, refusing, black-holed, flaky), random settings
 * (tiny buffers, short timeouts, a connection cap), scripted clients and backends, injected faults.
 * Then the invariants: bytes intact and in order (checked by the peers as they read), FINs forwarded
 * once and only after draining (checked by the kernel at each shutdown/close), every pair ends in
 * simulated time, every fd closed exactly once, nothing left registered, the buffer pool within two
 * buffers per open pair and empty at the end, no handler failure that was not injected.
 */
final class Simulation {
    /** A run still going after this much simulated time has a pair that never ends. */
    static final long MAX_SIM_NANOS = 3600 * World.SEC;
    static final int MAX_ITERATIONS = 5_000_000;
    private static final Pattern END = Pattern.compile(" end=([a-z-]+)");

    /** Fixes parts of a run that are otherwise drawn from the seed (for scenario tests); null/0 = random. */
    static final class Scenario {
        Faults faults;
        int forwards;
        int backends;
        Integer backendMode;
        /** Backend j's mode (SimKernel.Target.UP...), overriding {@link #backendMode}. */
        int[] backendModes;
        int clients;
        java.util.function.Function<World, Peer.Script> clientScript;
        java.util.function.Function<World, Peer.Script> backendScript;
        java.util.function.Predicate<End> throwOnRecv;
        java.util.function.Consumer<Settings.Builder> settings = st -> {};
        /** The forwards' balance policy and health settings; null = the default (first, passive marking). */
        org.epollproxy.forward.Balancing balancing;
        ProxyProtocol sendProxy;
        Boolean shutdown;
        /** Whether the run has a UDP forward too (null = drawn from the seed). */
        Boolean udp;
        /** Client c arrives this long after the start (null = drawn from the seed). */
        long[] arrivals;
        /** Client c's script (null = {@link #clientScript}). */
        java.util.function.IntFunction<Peer.Script> clientScriptOf;
        /** Sets the kernel's forcing knobs (forced throws, epoll_ctl failures, batch order, connect answers). */
        java.util.function.Consumer<SimKernel> kernel = k -> {};
        /** Schedules the scenario's own actions in the world once the forwards exist and the arrivals are set. */
        java.util.function.BiConsumer<World, SimKernel> direct = (w, k) -> {};

        /**
         * No fault, one forward to one backend that accepts, {@code clients} polite clients sending
         * {@code up} bytes each and polite backends sending {@code down}: a scenario test adds its one twist.
         */
        static Scenario quiet(int clients, long up, long down) {
            Scenario s = new Scenario();
            s.faults = Faults.none();
            s.forwards = 1;
            s.backends = 1;
            s.backendMode = SimKernel.Target.UP;
            s.clients = clients;
            s.shutdown = false;
            s.clientScript = w -> Peer.Script.polite(up);
            s.backendScript = w -> Peer.Script.polite(down);
            return s;
        }
    }

    /** What one run did, for the summary line. */
    static final class Result {
        long seed;
        int clientCount;
        int accepted;
        long bytes;
        long simNanos;
        long syscalls;
        long injected;
        long thrown;
        int iterations;
        boolean shutdown;
        long handlerFailures;
        /** Events the loop dropped because their token's slot had been released (EventLoop's token guard). */
        long staleEvents;
        /** Sends on a backend socket before its connect was known to be done, and what the proxy's speculation found. */
        long sendsWhileConnecting;
        long speculativeRecvHits;
        long speculativeSendHits;
        /** Pipes closed with bytes still in them (a pair that ended mid-transfer, --splice). */
        int pipesDiscarded;
        /** UDP datagrams the backend got intact, and replies the clients got intact. */
        long udpDatagrams;
        long udpReplies;
        final Map<String, Integer> ends = new TreeMap<>();
        final List<Peer> clients = new ArrayList<>();
        final List<Peer> backends = new ArrayList<>();
    }

    private final World w;
    private final SimKernel k;
    private final Settings settings;
    private final EventLoop loop;
    private final ForwardingLoop fw;
    private final ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
    private final List<String> loopErrors = new ArrayList<>();
    private final List<Peer> clients = new ArrayList<>();
    private final List<ProxyProtocol> proxyProtocols = new ArrayList<>();
    private boolean udpForward;
    private final List<UdpPeers.Client> udpClients = new ArrayList<>();
    private UdpPeers.Server udpServer;
    private int udpListenerFd = -1;
    private int arrivalsPending;

    private final Scenario scenario;
    /** The backends' live state (balancing, passive health) and the invariants on it. */
    private final SimBalance balance = new SimBalance(this);

    private Simulation(long seed, boolean verbose, Scenario scenario) {
        this.scenario = scenario;
        w = scenario.faults == null ? new World(seed, verbose) : new World(seed, verbose, scenario.faults);
        k = new SimKernel(w);
        if (scenario.backendScript != null) k.backendScript = scenario.backendScript;
        if (scenario.throwOnRecv != null) k.throwOnRecv = scenario.throwOnRecv;
        scenario.kernel.accept(k);
        Settings.Builder b = Settings.builder()
                .bufferSize(pick(1, 7, 64, 512, 4096, 65536))
                .connectTimeoutMs(pick(20, 1000, 5000))
                .idleTimeoutSec(pick(1, 10, 120))
                .finTimeoutSec(pick(0, 1, 10, 60))
                .maxConnections(pick(0, 0, 0, 1, 3))
                .logConnections(true);
        // From a stream of its own, so the draws above (and the seeds that found bugs) stay as they were.
        java.util.SplittableRandom extra = new java.util.SplittableRandom(seed * 0x9E3779B97F4A7C15L + 17);
        b.splice(extra.nextInt(3) == 0);
        udpForward = extra.nextInt(3) == 0;
        if (scenario.udp != null) udpForward = scenario.udp;
        b.udpTimeoutSec(new int[] {1, 5, 72}[extra.nextInt(3)]);
        b.udpMaxSessions(new int[] {2, 3, 4096}[extra.nextInt(3)]);
        scenario.settings.accept(b);
        settings = b.build();
        loop = new EventLoop(k, 0, msg -> loopErrors.add(msg), () -> w.now);
        fw = new ForwardingLoop(loop, settings, new Log(new PrintStream(logBytes, true, StandardCharsets.UTF_8)), new AtomicInteger());
    }

    private int pick(int... choices) {
        return choices[w.rnd.nextInt(choices.length)];
    }

    static Result run(long seed) {
        return run(seed, false);
    }

    /** Runs one seed; throws {@link SimViolation} naming the seed when an invariant breaks. */
    static Result run(long seed, boolean verbose) {
        return run(seed, verbose, new Scenario());
    }

    static Result run(long seed, boolean verbose, Scenario scenario) {
        Simulation s = new Simulation(seed, verbose, scenario);
        try {
            return s.execute();
        } catch (SimViolation v) {
            throw s.explain(v);
        } catch (RuntimeException e) {
            SimViolation v = s.w.violation("the loop itself threw (it must not): " + e);
            v.initCause(e);
            throw s.explain(v);
        }
    }

    private SimViolation explain(SimViolation v) {
        StringBuilder sb = new StringBuilder(v.getMessage());
        sb.append("\n  settings: buffer=").append(settings.bufferSize()).append(settings.splice() ? " splice" : "").append(" connect-timeout=").append(settings.connectTimeoutMs())
                .append("ms idle=").append(settings.idleTimeoutSec()).append("s fin=").append(settings.finTimeoutSec())
                .append("s max-connections=").append(settings.maxConnections());
        sb.append("\n  faults: ").append(w.faults);
        sb.append("\n  proxy log:\n").append(logBytes.toString(StandardCharsets.UTF_8).indent(4));
        if (!loopErrors.isEmpty()) sb.append("  loop errors: ").append(loopErrors).append('\n');
        if (w.verbose()) sb.append("  trace (last lines):\n").append(w.traceTail().indent(4));
        else sb.append("  re-run this seed alone, with a trace: -Dsim.seed=").append(w.seed);
        SimViolation out = new SimViolation(sb.toString());
        out.setStackTrace(v.getStackTrace());
        if (v.getCause() != null) out.initCause(v.getCause());
        return out;
    }

    private Result execute() {
        w.faultsOn = false; // setting up: a listener that cannot be created is not what this tests
        int forwards = scenario.forwards > 0 ? scenario.forwards : 1 + w.rnd.nextInt(2);
        for (int i = 0; i < forwards; i++) addForward(i);
        if (udpForward) addUdpForward();
        w.faultsOn = true;

        int clientCount = scenario.clients > 0 ? scenario.clients : 1 + w.rnd.nextInt(12);
        arrivalsPending = clientCount;
        for (int c = 0; c < clientCount; c++) {
            int id = c;
            int forward = w.rnd.nextInt(forwards);
            long delay = w.rnd.nextLong(2 * World.SEC);
            if (scenario.arrivals != null) delay = scenario.arrivals[c];
            w.at(w.now + delay, "client " + c + " arrives", () -> arrive(id, forward));
        }
        scenario.direct.accept(w, k);
        boolean shutdownRun = scenario.shutdown != null ? scenario.shutdown : w.rnd.nextInt(10) == 0;
        if (shutdownRun) w.atExactly(w.now + w.rnd.nextLong(3 * World.SEC), "proxy shutdown", loop::stop);

        k.finished = this::finished;
        k.udpMaxSessions = settings.udpMaxSessions();
        k.connectTimeoutNanos = settings.connectTimeoutMs() * World.MS;
        k.dataPathCheck = this::checkBufferBound;
        long start = w.now;
        k.giveUpAt = start + MAX_SIM_NANOS;
        k.whatIsOpen = this::openPairs;
        int iterations = 0;
        while (!finished() && !loop.isStopping()) {
            loop.runOnce(-1);
            checkBufferBound();
            checkLoopErrors();
            k.checkUdpSessionsWatched();
            if (++iterations > MAX_ITERATIONS) throw w.violation("still running after " + iterations + " loop iterations");
            if (w.now - start > MAX_SIM_NANOS) {
                throw w.violation("pairs never end: " + fw.openConnections() + " still open after " + (w.now - start) / World.SEC
                        + " s simulated: " + openPairs());
            }
        }
        Result r = new Result();
        r.seed = w.seed;
        r.iterations = iterations;
        r.shutdown = loop.isStopping();
        w.faultsOn = false;
        if (!r.shutdown) checkQuiescent();
        balance.checkAfterRun(r.shutdown);
        fw.closeAll();
        loop.close();
        checkLoopErrors();
        checkAllReleased();
        for (Peer p : clients) p.drain();
        for (SimPair p : k.pairs) for (Peer b : p.backendPeers) b.drain();

        r.simNanos = w.now - start;
        r.clientCount = clientCount;
        r.accepted = (int) k.pairs.stream().filter(p -> p.client.pair != null && p.client.closed).count();
        for (Peer p : clients) r.bytes += p.received;
        for (SimPair p : k.pairs) for (Peer b : p.backendPeers) r.bytes += b.received;
        r.syscalls = k.syscalls;
        r.handlerFailures = loop.stats().handlerFailures;
        r.staleEvents = loop.stats().staleEvents;
        r.pipesDiscarded = k.pipesClosedWithBytes();
        if (udpServer != null) r.udpDatagrams = udpServer.received;
        for (UdpPeers.Client c : udpClients) r.udpReplies += c.replies;
        r.clients.addAll(clients);
        for (SimPair p : k.pairs) r.backends.addAll(p.backendPeers);
        r.injected = k.injected;
        r.sendsWhileConnecting = k.sendsWhileConnecting;
        r.speculativeRecvHits = fw.counters().speculativeRecvHits;
        r.speculativeSendHits = fw.counters().speculativeSendHits;
        r.thrown = k.thrown;
        Matcher m = END.matcher(logBytes.toString(StandardCharsets.UTF_8));
        while (m.find()) r.ends.merge(m.group(1), 1, Integer::sum);
        return r;
    }

    private void addForward(int index) {
        int fd = Sockets.listenTcp(k, SockAddr.parse("127.0.0.1", 0), false, settings.backlog());
        SockAddr bound = Sockets.localAddress(k, fd);
        List<Backend> backends = new ArrayList<>();
        int n = scenario.backends > 0 ? scenario.backends : 1 + w.rnd.nextInt(3);
        for (int j = 0; j < n; j++) {
            SockAddr a = SockAddr.parse("127.0.0." + (10 + index), 8000 + j);
            int roll = scenario.backendMode != null ? -1 : w.rnd.nextInt(20);
            int mode = roll < 0 ? scenario.backendMode : roll < 12 ? SimKernel.Target.UP : roll < 15 ? SimKernel.Target.DOWN
                    : roll < 17 ? SimKernel.Target.BLACKHOLE : SimKernel.Target.FLAKY;
            if (scenario.backendModes != null) mode = scenario.backendModes[j];
            k.addTarget(a, index, j, mode);
            backends.add(new Backend("127.0.0." + (10 + index), a));
        }
        // PROXY protocol for some forwards, from a stream of its own (older seeds stay as they were).
        int pp = new java.util.SplittableRandom(w.seed * 0xC2B2AE3D27D4EB4FL + 31 * index + 5).nextInt(4);
        ProxyProtocol sendProxy = pp == 0 ? ProxyProtocol.V1 : pp == 1 ? ProxyProtocol.V2 : ProxyProtocol.OFF;
        if (scenario.sendProxy != null) sendProxy = scenario.sendProxy;
        fw.addListener(new TcpListener(fw, SimBalance.configure(scenario, new Forward(Forward.Proto.TCP, bound, backends,
                AccessRules.ALLOW_ALL, -1, null, "sim forward " + index, sendProxy)), fd, balance.pool(k)));
        proxyProtocols.add(sendProxy);
    }

    /** One UDP forward to one backend, and 1-6 clients that send a few datagrams each, with pauses. */
    private void addUdpForward() {
        udpListenerFd = Sockets.bindUdp(k, SockAddr.parse("127.0.0.1", 0), false);
        SockAddr bound = Sockets.localAddress(k, udpListenerFd);
        SockAddr target = SockAddr.parse("127.0.0.20", 9000);
        k.udpTargets.put(target, 0);
        udpServer = new UdpPeers.Server(w, k.udp, target);
        fw.addListener(new UdpListener(fw, new Forward(Forward.Proto.UDP, bound, List.of(new Backend("127.0.0.20", target)),
                AccessRules.ALLOW_ALL, -1, null, "sim udp forward"), udpListenerFd));
        int n = w.between(1, 6);
        for (int i = 0; i < n; i++) {
            UdpPeers.Client c = new UdpPeers.Client(w, k.udp, i, bound);
            udpClients.add(c);
            w.after(w.rnd.nextLong(2 * World.SEC), "udp client " + i + " starts", c::step);
        }
    }

    private void arrive(int c, int forward) {
        arrivalsPending--;
        End clientSide = new End(w, "client-" + c, k.queueSize());
        clientSide.address = SockAddr.parse("127.0.0.2", 10000 + c);
        End proxySide = new End(w, "proxy-c" + c, k.queueSize());
        proxySide.address = k.listeners.get(forward).address;
        End.link(clientSide, proxySide);
        SimPair p = new SimPair(c, proxySide, forward);
        // The header the proxy must send (its content is ProxyProtocolTest's business; here: first, whole, once).
        p.proxyHeader = proxyProtocols.get(forward) == ProxyProtocol.OFF ? new byte[0]
                : proxyProtocols.get(forward).header(clientSide.address, proxySide.address);
        Peer client = new Peer(w, clientSide, "client-" + c, 1000 + c, p::acceptsSender,
                scenario.clientScriptOf != null ? scenario.clientScriptOf.apply(c)
                        : scenario.clientScript != null ? scenario.clientScript.apply(w) : Peer.Script.random(w));
        p.clientPeer = client;
        clients.add(client);
        if (!k.enqueue(k.listeners.get(forward), proxySide)) {
            clientSide.refuse(); // backlog full: the SYN is refused
            client.done = true;
            return;
        }
        proxySide.pair = p;
        k.pairs.add(p);
        client.start(w.rnd.nextLong(2 * World.MS));
    }

    private boolean finished() {
        if (arrivalsPending > 0 || fw.openConnections() > 0) return false;
        for (UdpPeers.Client c : udpClients) if (!c.done) return false;
        if (k.openUdpSessions() > 0) return false; // they end by their idle timeout
        for (SimKernel.Listener l : k.listeners) if (!l.closed && !l.queue.isEmpty()) return false;
        return true;
    }

    private String openPairs() {
        StringBuilder sb = new StringBuilder();
        for (SimPair p : k.pairs) if (!p.allClosed()) sb.append("\n    ").append(p).append(" client peer ").append(p.clientPeer);
        return sb.toString();
    }

    /** The TCP forwards' counters summed (for SimBalance). */
    ForwardStats tcpStats() {
        ForwardStats sum = new ForwardStats();
        for (org.epollproxy.forward.Listener l : fw.listeners()) if (l instanceof TcpListener) sum.add(l.stats());
        return sum;
    }

    int scheduledTimers() {
        return loop.scheduledTimers();
    }

    int listenerCount() {
        return fw.listeners().size();
    }

    /**
     * Buffer memory is bounded: at most one buffer per direction of each open pair. So are pipes: one per
     * direction, up to PipePool.MAX_IDLE more kept empty, and every open pipe is one the pool counts.
     */
    private void checkBufferBound() {
        BufferPool pool = fw.pool();
        if (pool.inUse() > 2L * fw.openConnections()) {
            throw w.violation("buffer pool holds " + pool.inUse() + " buffers for " + fw.openConnections() + " open pairs (bound: 2 per pair)");
        }
        PipePool pipes = fw.pipes();
        if (pipes.inUse() > 2L * fw.openConnections() || pipes.idle() > PipePool.MAX_IDLE
                || k.openPipes() != pipes.inUse() + pipes.idle()) {
            throw w.violation(k.openPipes() + " pipes open, the pool counts " + pipes.inUse() + " in use and " + pipes.idle()
                    + " idle, for " + fw.openConnections() + " open pairs (bounds: 2 per pair, " + PipePool.MAX_IDLE + " idle)");
        }
    }

    /** A handler or timer failure is only acceptable when the simulation injected one. */
    private void checkLoopErrors() {
        if (!loopErrors.isEmpty() && k.thrown == 0) throw w.violation("the loop caught an exception nobody injected: " + loopErrors);
    }

    /** All pairs ended by themselves: only the listeners (and the loop's own fds) may remain. */
    private void checkQuiescent() {
        List<Integer> listenerFds = new ArrayList<>();
        for (SimKernel.Listener l : k.listeners) if (!l.closed) listenerFds.add(l.fd);
        if (udpListenerFd >= 0) listenerFds.add(udpListenerFd);
        for (int fd : k.registeredFds()) {
            Object f = k.fileAt(fd);
            boolean udpListener = fd == udpListenerFd;
            if (!(f instanceof SimKernel.Listener) && !(f instanceof SimKernel.EventFd) && !udpListener) {
                throw w.violation("fd " + fd + " is still registered with epoll after every pair ended: " + f);
            }
        }
        PipePool pipes = fw.pipes();
        if (pipes.inUse() != 0) throw w.violation("pipes still held after every pair ended: " + pipes.inUse());
        if (k.bytesInOpenPipes() != 0) {
            throw w.violation("the pipes kept for reuse hold " + k.bytesInOpenPipes() + " bytes (a pipe given back before it was empty): "
                    + k.openFiles());
        }
        // + the epoll fd and the wakeup eventfd, + both ends of each empty pipe kept for reuse
        int expected = listenerFds.size() + 2 + 2 * pipes.idle();
        if (k.openFdCount() != expected) {
            throw w.violation("after every pair ended " + k.openFdCount() + " fds are open, expected " + expected + ": " + k.openFiles());
        }
        if (loop.liveSlots() != listenerFds.size()) {
            throw w.violation("the loop still has " + loop.liveSlots() + " registered handlers for " + listenerFds.size() + " listeners");
        }
        if (fw.pool().inUse() != 0) throw w.violation("buffers still in use after every pair ended: " + fw.pool().inUse());
    }

    /** After closeAll and loop.close: no fd open, no buffer allocated, every accepted socket closed. */
    private void checkAllReleased() {
        if (k.openFdCount() != 0) throw w.violation("fds left open after shutdown: " + k.openFiles());
        BufferPool pool = fw.pool();
        if (pool.inUse() != 0 || pool.allocatedBytes() != 0) {
            throw w.violation("buffer pool not empty after shutdown: inUse=" + pool.inUse() + " allocatedBytes=" + pool.allocatedBytes());
        }
        for (SimPair p : k.pairs) {
            boolean accepted = p.client.closed || k.listeners.get(p.forwardIndex).queue.contains(p.client);
            if (accepted && !p.allClosed()) throw w.violation("a socket of " + p + " was never closed");
        }
    }
}
