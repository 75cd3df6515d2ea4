package org.epollproxy.runtime;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.ForwardingLoop;
import org.epollproxy.forward.Listener;
import org.epollproxy.forward.Log;
import org.epollproxy.forward.RinetdLog;
import org.epollproxy.forward.Settings;
import org.epollproxy.forward.balance.BackendPool;
import org.epollproxy.forward.balance.HealthChecks;
import org.epollproxy.forward.tcp.TcpListener;
import org.epollproxy.forward.udp.UdpListener;
import org.epollproxy.loop.EventLoop;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.SyscallException;
import org.epollproxy.shim.TracingKernel;

/**
 * The running proxy: {@code settings.threads()()} event loops, each on its own thread with its own epoll
 * fd, its own {@link ForwardingLoop} and its own listening socket per forward (SO_REUSEPORT when there are
 * several, so the kernel spreads new connections across loops without any lock between them).
 */
public final class ProxyServer {
    private final Kernel kernel;
    private final Settings settings;
    private final PrintStream err;
    private final List<Worker> workers = new ArrayList<>();
    private final AtomicInteger openTotal = new AtomicInteger();
    /** Counts down as each loop begins the drain; null before {@link #drain}. */
    private volatile CountDownLatch drainBegun;
    private final org.epollproxy.forward.PortQuarantine udpPorts = new org.epollproxy.forward.PortQuarantine();
    private final CountDownLatch stopped;
    /** Binds the listening sockets, one per loop and forward, all or nothing. */
    private final ListeningSockets sockets;
    /** Running forwards by requested key (as configured, port 0 included) -> as bound. */
    private final Map<String, Forward> active = new LinkedHashMap<>();
    /** The listening sockets by bound key (Forward.key() of the forward as bound), one per loop, for a handover. */
    private final Map<String, int[]> listening = new LinkedHashMap<>();
    private final java.util.concurrent.atomic.AtomicReference<String> failure = new java.util.concurrent.atomic.AtomicReference<>();
    private volatile boolean draining;
    /**
     * A reload and a takeover exclude each other without a lock: a takeover is offered on loop 0, and a reload
     * holds this object's monitor while it waits for every loop, loop 0 too; loop 0 waiting for the monitor
     * stood still until the reload gave up on it (5 s), and the reload failed. Whoever comes second is refused.
     */
    private final AtomicInteger exclusive = new AtomicInteger(IDLE);
    private static final int IDLE = 0, RELOADING = 1, HANDING_OVER = 2;

    /** Every backend's live state (balancing, health), shared by the loops and kept across reloads. */
    private final BackendPool backendPool = new BackendPool();
    /** --max-connections-per-client / --client-rate, shared by every loop. */
    private org.epollproxy.forward.ClientLimits clientLimits;

    private static final class Worker {
        final EventLoop loop;
        final ForwardingLoop forwarding;
        final HealthChecks checks;
        Thread thread;

        Worker(EventLoop loop, ForwardingLoop forwarding) {
            this.loop = loop;
            this.forwarding = forwarding;
            this.checks = new HealthChecks(forwarding);
        }
    }

    public ProxyServer(Kernel kernel, Settings settings, PrintStream err) {
        this.kernel = kernel;
        this.settings = settings;
        this.err = err;
        this.stopped = new CountDownLatch(settings.threads());
        this.sockets = new ListeningSockets(kernel, settings, settings.threads());
    }

    /**
     * Binds every forward on every loop, or nothing: if one bind fails, the sockets bound so far are
     * closed and the {@link SyscallException} (naming the address and errno) propagates. Then starts
     * the loop threads. Returns the forwards as bound (port 0 replaced by the real port).
     */
    public List<Forward> start(List<Forward> forwards) {
        return start(forwards, Map.of());
    }

    /**
     * As {@link #start(List)}, but the forwards whose requested key is in {@code inherited} use those
     * listening sockets (one per loop; socket activation or a takeover) instead of binding new ones.
     */
    public List<Forward> start(List<Forward> forwards, Map<String, int[]> inherited) {
        clientLimits = org.epollproxy.forward.ClientLimits.of(settings);
        for (int i = 0; i < settings.threads(); i++) {
            Kernel k = settings.trace()
                    ? new TracingKernel(kernel, err, settings.threads() > 1 ? "[loop " + i + "] " : "")
                    : kernel;
            EventLoop loop = new EventLoop(k, i, msg -> err.println(msg), System::nanoTime, settings.ioUring());
            workers.add(new Worker(loop, new ForwardingLoop(loop, settings, new Log(err), openTotal, udpPorts)));
            workers.get(i).forwarding.setClientLimits(clientLimits);
        }
        Map<String, int[]> fds;
        try {
            fds = sockets.bindEach(forwards, inherited);
        } catch (RuntimeException e) {
            for (Worker w : workers) w.loop.close();
            workers.clear();
            throw e;
        }
        for (Forward f : forwards) active.put(f.key(), sockets.bound(f, fds.get(f.key())));
        backendPool.update(List.copyOf(active.values()));
        for (Forward f : forwards) {
            Forward b = active.get(f.key());
            listening.put(b.key(), fds.get(f.key()));
            for (int i = 0; i < workers.size(); i++) addListener(workers.get(i).forwarding, b, fds.get(f.key())[i]);
        }
        for (int i = 0; i < workers.size(); i++) syncChecks(workers.get(i), i);
        for (Worker w : workers) {
            w.thread = new Thread(() -> runLoop(w), "epoll-loop-" + w.loop.id());
            w.thread.start();
        }
        return forwards();
    }

    /** Starts serving the bound socket {@code fd} of {@code f} on {@code fl}'s loop (its thread, or before it runs). */
    private void addListener(ForwardingLoop fl, Forward f, int fd) {
        if (fd < 0) return; // a UNIX listener: on the first loop only
        Listener l = f.proto() == Forward.Proto.UDP ? new UdpListener(fl, f, fd) : new TcpListener(fl, f, fd, backendPool);
        fl.addListener(l);
    }

    /** Loop {@code i}'s share of the active checks, for the running forwards (its thread, or before it runs). */
    private void syncChecks(Worker w, int i) {
        w.checks.sync(backendPool.groups(), i, workers.size());
    }

    /** Every backend's live state, for /metrics and /backends. */
    public BackendPool backendPool() {
        return backendPool;
    }

    /**
     * SIGHUP: makes {@code desired} the running set. Forwards whose listening address is new are bound
     * first, on every loop, and if any bind fails nothing changes at all (the exception says why).
     * Then, on every loop: new listeners start and listeners whose address stays get the new backends and
     * rules; if that fails on any loop, every loop undoes its part (closing the new sockets) and the
     * running set is unchanged (IllegalStateException says which loop and why). Only then do listeners
     * whose address is gone stop listening. Open connections are never cut: they keep the backend and the
     * settings they started with. Returns a one-line summary for the log.
     */
    public synchronized String reconfigure(List<Forward> desired) throws InterruptedException {
        if (draining) throw new IllegalStateException("draining: the configuration is not reloaded any more");
        if (!exclusive.compareAndSet(IDLE, RELOADING)) throw new IllegalStateException("a takeover is handing the listening sockets over");
        try {
            return reconfigureExclusive(desired);
        } finally {
            exclusive.set(IDLE);
        }
    }

    private String reconfigureExclusive(List<Forward> desired) throws InterruptedException {
        Map<String, Forward> want = new LinkedHashMap<>();
        for (Forward f : desired) {
            if (want.put(f.key(), f) != null) throw new IllegalArgumentException("two forwards listen on " + f.key());
        }
        List<Forward> added = new ArrayList<>();
        List<String> removed = new ArrayList<>();
        Map<String, Forward> changed = new LinkedHashMap<>(); // requested key -> the new forward, as bound
        for (Forward f : desired) {
            Forward cur = active.get(f.key());
            if (cur == null) added.add(f);
            else if (!cur.sameTargetAs(f)) changed.put(f.key(), f.boundTo(cur.bind()));
        }
        for (String key : active.keySet()) if (!want.containsKey(key)) removed.add(key);

        Map<String, int[]> fds = sockets.bindEach(added, Map.of()); // throws, having closed what it bound, if any bind fails
        List<Forward> addedBound = new ArrayList<>();
        for (Forward f : added) addedBound.add(sockets.bound(f, fds.get(f.key())));
        List<String> removedBoundKeys = new ArrayList<>();
        for (String key : removed) removedBoundKeys.add(active.get(key).key());

        Map<String, Forward> next = new LinkedHashMap<>(active);
        for (String key : removed) next.remove(key);
        next.putAll(changed);
        for (int j = 0; j < added.size(); j++) next.put(added.get(j).key(), addedBound.get(j));
        backendPool.update(List.copyOf(next.values())); // before any loop serves a new forward: states carried over

        List<Forward> before = new ArrayList<>(); // changed: the forward as it ran before, to undo
        for (String key : changed.keySet()) before.add(active.get(key));
        List<EventLoop> loops = new ArrayList<>();
        List<ForwardingLoop> fls = new ArrayList<>();
        for (Worker w : workers) {
            loops.add(w.loop);
            fls.add(w.forwarding);
        }
        LoopReload r = new LoopReload(kernel, loops, fls, added, addedBound, fds, before, List.copyOf(changed.values()),
                this::addListener, i -> syncChecks(workers.get(i), i));
        // Phase 1, on every loop: new listeners start, changed ones take their new forward. A loop that
        // fails undoes its own part at once; then every other loop undoes its part: all or nothing.
        String failed = r.onEveryLoop(true);
        if (failed != null) {
            backendPool.update(List.copyOf(active.values())); // the running set again
            String undo = r.onEveryLoop(false);
            throw new IllegalStateException("reload not applied, nothing changed: " + failed
                    + (undo == null ? "" : "; undoing: " + undo));
        }
        for (String key : removed) listening.remove(active.remove(key).key());
        active.putAll(changed);
        for (int j = 0; j < added.size(); j++) {
            active.put(added.get(j).key(), addedBound.get(j));
            listening.put(addedBound.get(j).key(), fds.get(added.get(j).key()));
        }
        // Phase 2: forwards that are gone stop listening (their open connections live on).
        if (!r.removeEverywhere(removedBoundKeys)) throw new IllegalStateException("a loop did not apply the reload within 5 s");
        return added.size() + " added, " + removed.size() + " removed, " + changed.size() + " changed, "
                + (active.size() - added.size() - changed.size()) + " unchanged";
    }

    /** rinetd-format connection log for every loop (null: none). */
    public void setRinetdLog(RinetdLog l) {
        for (Worker w : workers) w.forwarding.setRinetdLog(l);
    }

    /**
     * Runs one loop until it is stopped, or until it dies: an Error from a handler (OutOfMemoryError,
     * StackOverflowError) or a failed epoll_wait ends its thread. A dead loop resets its connections,
     * stops the other loops and is named in one log line; {@link #failure()} then says why and the CLI
     * exits non-zero, so a supervisor restarts the process instead of it serving on with part of its
     * SO_REUSEPORT group gone.
     */
    private void runLoop(Worker w) {
        Throwable died = null;
        int open = 0;
        try {
            w.loop.run();
        } catch (Throwable t) {
            died = t;
        } finally {
            try {
                open = w.forwarding.openConnections();
                w.checks.stopAll();
                w.forwarding.closeAll();
            } catch (Throwable t) {
                if (died == null) died = t;
                else died.addSuppressed(t);
            } finally {
                w.loop.close();
                if (died != null) loopDied(w, died, open);
                stopped.countDown();
            }
        }
    }

    private void loopDied(Worker w, Throwable t, int reset) {
        StackTraceElement[] at = t.getStackTrace();
        String why = "loop " + w.loop.id() + " died: " + t + (at.length > 0 ? " at " + at[0] : "");
        if (!failure.compareAndSet(null, why)) return; // one line: the first death is the cause
        err.println("epoll-proxy: " + why + "; reset its " + reset + " connection(s), stopping the other loops, exit status "
                + EXIT_LOOP_DIED);
        err.flush();
        for (Worker other : workers) other.loop.stop();
    }

    /** Exit status of a process whose loop died (EX_SOFTWARE from sysexits.h: an internal error). */
    public static final int EXIT_LOOP_DIED = 70;

    /** Why a loop died ("loop 1 died: java.lang.OutOfMemoryError ..."), or null while every loop runs. */
    public String failure() {
        return failure.get();
    }

    /** The running forwards as bound (real ports), in the order they were added. */
    public synchronized List<Forward> forwards() {
        return List.copyOf(active.values());
    }

    /** The per-client table (its size is in /metrics). */
    public org.epollproxy.forward.ClientLimits clientLimits() {
        return clientLimits;
    }

    public int openConnections() {
        return openTotal.get();
    }

    /**
     * Graceful stop: every loop closes its listeners now (UDP sessions end), lets its open connections
     * finish and stops when none is left; at {@code timeoutMs} it resets the rest. Returns the
     * connections open when it began, or -1 if a drain had already begun.
     */
    public int drain(long timeoutMs) {
        return drain(timeoutMs, true);
    }

    /**
     * As {@link #drain(long)}; {@code takeInQueued} false when the listening sockets live on in another process
     * (a takeover, systemd socket activation): the connections in their backlog are left to it.
     */
    public int drain(long timeoutMs, boolean takeInQueued) {
        synchronized (this) {
            if (draining) return -1;
            draining = true;
        }
        int open = openTotal.get();
        CountDownLatch begun = new CountDownLatch(workers.size());
        drainBegun = begun;
        for (Worker w : workers) {
            boolean posted = w.loop.execute(() -> {
                w.forwarding.beginDrain(TimeUnit.MILLISECONDS.toNanos(timeoutMs), takeInQueued);
                begun.countDown();
            });
            if (!posted) begun.countDown(); // that loop has ended already
        }
        return open;
    }

    /**
     * Waits at most {@code timeout} for every loop to have begun the drain (closed its listeners), after
     * which {@link #udpSessionsEndedByDrain} is complete. Not on a loop's thread. False on timeout.
     */
    public boolean awaitDrainBegun(long timeout, TimeUnit unit) throws InterruptedException {
        CountDownLatch begun = drainBegun;
        return begun != null && begun.await(timeout, unit);
    }

    /** UDP sessions the drain ended (open when it began, on the loops that have begun it); 0 before a drain. */
    public int udpSessionsEndedByDrain() {
        int n = 0;
        for (Worker w : workers) n += w.forwarding.udpSessionsEndedByDrain();
        return n;
    }

    /** A drain has begun (SIGTERM, or a successor took the listening sockets over). */
    public boolean draining() {
        return draining;
    }

    /** Connections reset because they were still open at the drain deadline or at a stop; read after {@link #await}. */
    public int resetAtShutdown() {
        int n = 0;
        for (Worker w : workers) n += w.forwarding.resetAtShutdown();
        return n;
    }

    /**
     * Takeover: the listening sockets of every forward as bound, {@code [loop]} order, keyed by
     * {@link Forward#key()}; reloads are refused until {@link #handOverEnded}. Null while draining.
     */
    public Map<Forward, int[]> beginHandOver() {
        // On loop 0: refused during a reload rather than waiting for the monitor it holds (see exclusive).
        if (draining || !exclusive.compareAndSet(IDLE, HANDING_OVER)) return null;
        synchronized (this) { // held only for moments now: no reload holds it (a reload that comes now is refused)
            if (draining) {
                exclusive.set(IDLE);
                return null;
            }
            Map<Forward, int[]> out = new LinkedHashMap<>();
            for (Forward f : active.values()) out.put(f, listening.get(f.key()).clone());
            return out;
        }
    }

    /** The takeover is over (failed, or the drain began): reloads may run again. */
    public void handOverEnded() {
        exclusive.compareAndSet(HANDING_OVER, IDLE);
    }

    /** Waits at most {@code timeout} for every loop to end. */
    public boolean awaitStopped(long timeout, TimeUnit unit) throws InterruptedException {
        return stopped.await(timeout, unit);
    }

    /** Stops accepting, closes every connection and listener; returns when all loops ended or timed out. */
    public boolean stop(long timeout, TimeUnit unit) throws InterruptedException {
        for (Worker w : workers) w.loop.stop();
        return stopped.await(timeout, unit);
    }

    /** Blocks until every loop has ended. */
    public void await() throws InterruptedException {
        stopped.await();
    }

    /** Runs {@code task(loopIndex, forwardingLoop)} on every loop's thread; for tests and the stats view. */
    public void onEachLoop(java.util.function.BiConsumer<Integer, ForwardingLoop> task) {
        for (Worker w : workers) w.loop.execute(() -> task.accept(w.loop.id(), w.forwarding));
    }

    public List<EventLoop> loops() {
        List<EventLoop> out = new ArrayList<>();
        for (Worker w : workers) out.add(w.loop);
        return out;
    }

    public List<ForwardingLoop> forwardingLoops() {
        List<ForwardingLoop> out = new ArrayList<>();
        for (Worker w : workers) out.add(w.forwarding);
        return out;
    }
}
