package org.epollproxy.sim;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.SplittableRandom;

/**
 * Simulated time, the seeded random source and the queue of things that happen outside the proxy
 * (peers acting, connects completing, RSTs arriving). Single-threaded and fully determined by the seed.
 */
final class World {
    static final long MS = 1_000_000L;
    static final long SEC = 1_000_000_000L;

    final long seed;
    final SplittableRandom rnd;
    final Faults faults;
    /** Faults are off while the simulation sets up and cleans up, which must work on a quiet kernel. */
    boolean faultsOn;
    long now;
    /** Bumped whenever a syscall or action changes state; a loop that wakes without it spins. */
    long progress;

    private long seq;
    private final PriorityQueue<Action> actions = new PriorityQueue<>();
    private final boolean verbose;
    private final ArrayDeque<String> trace = new ArrayDeque<>();

    private static final class Action implements Comparable<Action> {
        final long time;
        final long seq;
        final String what;
        final Runnable run;
        /** Whether it may run ahead of its time, inside a syscall (peer steps and network events may). */
        final boolean early;

        Action(long time, long seq, String what, Runnable run, boolean early) {
            this.time = time;
            this.seq = seq;
            this.what = what;
            this.run = run;
            this.early = early;
        }

        @Override
        public int compareTo(Action o) {
            int c = Long.compare(time, o.time);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }

    World(long seed, boolean verbose) {
        this(seed, verbose, Faults.random(new SplittableRandom(seed ^ 0x5DEECE66DL)));
    }

    World(long seed, boolean verbose, Faults faults) {
        this.seed = seed;
        this.rnd = new SplittableRandom(seed);
        this.faults = faults;
        this.verbose = verbose;
        this.now = (1 + rnd.nextInt(1000)) * SEC;
    }

    boolean chance(double p) {
        return faultsOn && p > 0 && rnd.nextDouble() < p;
    }

    int between(int lo, int hi) {
        return lo + rnd.nextInt(hi - lo + 1);
    }

    void at(long time, String what, Runnable r) {
        actions.add(new Action(time, seq++, what, r, true));
    }

    void atExactly(long time, String what, Runnable r) {
        actions.add(new Action(time, seq++, what, r, false));
    }

    void after(long delay, String what, Runnable r) {
        at(now + delay, what, r);
    }

    long nextActionTime() {
        Action a = actions.peek();
        return a == null ? Long.MAX_VALUE : a.time;
    }

    boolean hasActions() {
        return !actions.isEmpty();
    }

    /** Runs every action due by now. */
    void runDue() {
        while (!actions.isEmpty() && actions.peek().time <= now) run(actions.poll());
    }

    /** Runs the next action, moving time forward to it if it lies ahead. */
    void runNext() {
        Action a = actions.poll();
        if (a.time > now) now = a.time;
        run(a);
    }

    /** Runs one of the next few pending actions now, ahead of its time: an event between two syscalls. */
    void interleave() {
        if (actions.isEmpty()) return;
        List<Action> head = new ArrayList<>();
        for (int i = 0; i < 4 && !actions.isEmpty(); i++) head.add(actions.poll());
        int pick = rnd.nextInt(head.size());
        Action chosen = head.get(pick).early ? head.get(pick) : null;
        for (int i = 0; i < head.size(); i++) if (head.get(i) != chosen) actions.add(head.get(i));
        if (chosen != null) {
            if (verbose) log("early: " + chosen.what);
            run(chosen);
        }
    }

    private void run(Action a) {
        if (verbose) log("run " + a.what);
        progress++;
        a.run.run();
    }

    boolean verbose() {
        return verbose;
    }

    void log(String line) {
        if (!verbose) return;
        trace.add(String.format("%,15d us  %s", now / 1000, line));
        if (trace.size() > 4000) trace.poll();
    }

    String traceTail() {
        return String.join("\n", trace);
    }

    SimViolation violation(String msg) {
        log("VIOLATION " + msg);
        return new SimViolation("seed " + seed + ": " + msg);
    }
}
