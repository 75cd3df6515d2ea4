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
import org.epollproxy.forward.Sockets;
import org.epollproxy.forward.tcp.TcpListener;
import org.epollproxy.forward.udp.UdpListener;
import org.epollproxy.loop.EventLoop;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.SockAddr;
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
    private final java.util.concurrent.atomic.AtomicReference<String> failure = new java.util.concurrent.atomic.AtomicReference<>();
    private final CountDownLatch stopped;
    /** Running forwards by requested key (as configured, port 0 included) -> as bound. */
    private final Map<String, Forward> active = new LinkedHashMap<>();

    private static final class Worker {
        final EventLoop loop;
        final ForwardingLoop forwarding;
        Thread thread;

        Worker(EventLoop loop, ForwardingLoop forwarding) {
            this.loop = loop;
            this.forwarding = forwarding;
        }
    }

    public ProxyServer(Kernel kernel, Settings settings, PrintStream err) {
        this.kernel = kernel;
        this.settings = settings;
        this.err = err;
        this.stopped = new CountDownLatch(settings.threads());
    }

    /**
     * Binds every forward on every loop, or nothing: if one bind fails, the sockets bound so far are
     * closed and the {@link SyscallException} (naming the address and errno) propagates. Then starts
     * the loop threads. Returns the forwards as bound (port 0 replaced by the real port).
     */
    public List<Forward> start(List<Forward> forwards) {
        for (int i = 0; i < settings.threads(); i++) {
            Kernel k = settings.trace()
                    ? new TracingKernel(kernel, err, settings.threads() > 1 ? "[loop " + i + "] " : "")
                    : kernel;
            EventLoop loop = new EventLoop(k, i, msg -> err.println(msg));
            workers.add(new Worker(loop, new ForwardingLoop(loop, settings, new Log(err), openTotal)));
        }
        Map<String, int[]> fds;
        try {
            fds = bindEach(forwards);
        } catch (RuntimeException e) {
            for (Worker w : workers) w.loop.close();
            workers.clear();
            throw e;
        }
        for (Forward f : forwards) {
            Forward b = bound(f, fds.get(f.key()));
            active.put(f.key(), b);
            for (int i = 0; i < workers.size(); i++) addListener(workers.get(i).forwarding, b, fds.get(f.key())[i]);
        }
        for (Worker w : workers) {
            w.thread = new Thread(() -> runLoop(w), "epoll-loop-" + w.loop.id());
            w.thread.start();
        }
        return forwards();
    }

    /** Starts serving the bound socket {@code fd} of {@code f} on {@code fl}'s loop (its thread, or before it runs). */
    private static void addListener(ForwardingLoop fl, Forward f, int fd) {
        Listener l = f.proto() == Forward.Proto.UDP ? new UdpListener(fl, f, fd) : new TcpListener(fl, f, fd);
        fl.addListener(l);
    }

    /** The forward as bound: the real port when 0 was asked for. */
    private Forward bound(Forward requested, int[] fds) {
        return requested.boundTo(Sockets.localAddress(kernel, fds[0]));
    }

    /** Binds one socket per loop for each forward, all or none; keyed by the forward's requested key. */
    private Map<String, int[]> bindEach(List<Forward> forwards) {
        Map<String, int[]> out = new LinkedHashMap<>();
        try {
            for (Forward f : forwards) {
                if (out.containsKey(f.key())) throw new IllegalArgumentException("two forwards listen on " + f.key());
                out.put(f.key(), bindAll(f.bind(), f.proto()));
            }
            return out;
        } catch (RuntimeException e) {
            for (int[] each : out.values()) for (int fd : each) kernel.close(fd);
            throw e;
        }
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

        Map<String, int[]> fds = bindEach(added); // throws, having closed what it bound, if any bind fails
        List<Forward> addedBound = new ArrayList<>();
        for (Forward f : added) addedBound.add(bound(f, fds.get(f.key())));
        List<String> removedBoundKeys = new ArrayList<>();
        for (String key : removed) removedBoundKeys.add(active.get(key).key());

        Map<String, Forward> previous = new LinkedHashMap<>(); // changed: the forward as it ran before, to undo
        for (String key : changed.keySet()) previous.put(key, active.get(key));
        Reload r = new Reload(addedBound, fds, added, previous.values(), changed.values());

        // Phase 1, on every loop: new listeners start, changed ones take their new forward. A loop that
        // fails undoes its own part at once; then every other loop undoes its part: all or nothing.
        String failed = r.onEveryLoop(true);
        if (failed != null) {
            String undo = r.onEveryLoop(false);
            throw new IllegalStateException("reload not applied, nothing changed: " + failed
                    + (undo == null ? "" : "; undoing: " + undo));
        }
        for (String key : removed) active.remove(key);
        active.putAll(changed);
        for (int j = 0; j < added.size(); j++) active.put(added.get(j).key(), addedBound.get(j));
        // Phase 2: forwards that are gone stop listening (their open connections live on).
        CountDownLatch removedAll = new CountDownLatch(workers.size());
        for (Worker w : workers) {
            if (!w.loop.execute(() -> {
                try {
                    for (String key : removedBoundKeys) w.forwarding.removeListener(key);
                } finally {
                    removedAll.countDown();
                }
            })) removedAll.countDown();
        }
        if (!removedAll.await(5, TimeUnit.SECONDS)) throw new IllegalStateException("a loop did not apply the reload within 5 s");
        return added.size() + " added, " + removed.size() + " removed, " + changed.size() + " changed, "
                + (active.size() - added.size() - changed.size()) + " unchanged";
    }

    /**
     * One reload's changes to the loops, applied or undone on each loop's own thread. Per loop it
     * remembers whether its part was undone, so the new sockets are closed exactly once whatever failed.
     */
    private final class Reload {
        final List<Forward> addedBound;
        final Map<String, int[]> fds;
        final List<Forward> added;
        final List<Forward> before;
        final List<Forward> after;
        final boolean[] undone = new boolean[workers.size()];

        Reload(List<Forward> addedBound, Map<String, int[]> fds, List<Forward> added,
                java.util.Collection<Forward> before, java.util.Collection<Forward> after) {
            this.addedBound = addedBound;
            this.fds = fds;
            this.added = added;
            this.before = List.copyOf(before);
            this.after = List.copyOf(after);
        }

        /** Applies (or undoes) on every loop and waits; null if all succeeded, else what failed. */
        String onEveryLoop(boolean apply) throws InterruptedException {
            int n = workers.size();
            String[] failures = new String[n];
            CountDownLatch done = new CountDownLatch(n);
            for (int i = 0; i < n; i++) {
                int loop = i;
                ForwardingLoop fw = workers.get(i).forwarding;
                boolean posted = workers.get(i).loop.execute(() -> {
                    try {
                        if (apply) apply(loop, fw);
                        else undo(loop, fw);
                    } catch (RuntimeException e) {
                        failures[loop] = "loop " + loop + ": " + e;
                        if (apply) undo(loop, fw);
                    } finally {
                        done.countDown();
                    }
                });
                if (!posted) { // that loop is gone (shutting down): its share of the new sockets is ours to close
                    if (!undone[loop]) for (int[] each : fds.values()) kernel.close(each[loop]);
                    undone[loop] = true;
                    failures[loop] = "loop " + loop + " has stopped";
                    done.countDown();
                }
            }
            // An apply not finished in time still runs first: the undo posted after it waits its turn.
            if (!done.await(5, TimeUnit.SECONDS)) return "a loop did not answer within 5 s";
            for (String f : failures) if (f != null) return f;
            return null;
        }

        private void apply(int loop, ForwardingLoop fw) {
            for (Forward f : after) fw.replaceForward(f);
            for (int j = 0; j < added.size(); j++) addListener(fw, addedBound.get(j), fds.get(added.get(j).key())[loop]);
        }

        /** Loop thread: stop what apply started (closing its sockets), close the sockets it never reached. */
        private void undo(int loop, ForwardingLoop fw) {
            if (undone[loop]) return;
            undone[loop] = true;
            for (int j = 0; j < added.size(); j++) {
                if (!fw.removeListener(addedBound.get(j).key())) kernel.close(fds.get(added.get(j).key())[loop]);
            }
            for (Forward f : before) fw.replaceForward(f);
        }
    }

    /** rinetd-format connection log for every loop (null: none). */
    public void setRinetdLog(RinetdLog l) {
        for (Worker w : workers) w.forwarding.setRinetdLog(l);
    }

    /** One socket per loop for {@code addr}; with several loops they share it via SO_REUSEPORT. */
    private int[] bindAll(SockAddr addr, Forward.Proto proto) {
        int n = workers.size();
        int[] fds = new int[n];
        int done = 0;
        try {
            if (n > 1 && addr.port() != 0) {
                // SO_REUSEPORT would let us silently join another process's group on this port;
                // a plain bind first proves the port is free.
                kernel.close(open(addr, proto, false));
            }
            SockAddr a = addr;
            for (; done < n; done++) {
                fds[done] = open(a, proto, n > 1);
                if (done == 0) a = Sockets.localAddress(kernel, fds[0]);
            }
            return fds;
        } catch (SyscallException e) {
            for (int i = 0; i < done; i++) kernel.close(fds[i]);
            throw e;
        }
    }

    private int open(SockAddr addr, Forward.Proto proto, boolean reusePort) {
        return proto == Forward.Proto.UDP ? Sockets.bindUdp(kernel, addr, reusePort)
                : Sockets.listenTcp(kernel, addr, reusePort, settings.backlog());
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

    public int openConnections() {
        return openTotal.get();
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

    /** Waits up to {@code timeout} for every loop to end; true if they did. */
    public boolean await(long timeout, TimeUnit unit) throws InterruptedException {
        return stopped.await(timeout, unit);
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
