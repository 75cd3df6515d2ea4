package org.epollproxy.runtime;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.ForwardingLoop;
import org.epollproxy.loop.EventLoop;
import org.epollproxy.shim.Kernel;

/**
 * One reload's changes to the loops, applied or undone on each loop's own thread, all or nothing: the
 * new listeners start and changed forwards take their new backends on every loop ({@link #onEveryLoop}
 * true); if any loop fails, each loop undoes its part ({@code false}). Per loop it remembers whether its
 * part was undone, so the new sockets are closed exactly once whatever failed where.
 */
final class LoopReload {
    /** Starts serving the bound socket {@code fd} of {@code f} on {@code fl}'s loop. */
    interface Starter {
        void start(ForwardingLoop fl, Forward f, int fd);
    }

    private final Kernel kernel;
    private final List<EventLoop> loops;
    private final List<ForwardingLoop> fls;
    private final List<Forward> added;
    private final List<Forward> addedBound;
    private final Map<String, int[]> fds;
    private final List<Forward> before;
    private final List<Forward> after;
    private final Starter starter;
    private final IntConsumer sync;
    private final boolean[] undone;

    /**
     * @param fds the new sockets by requested key, one per loop
     * @param before the changed forwards as they run now; {@code after} the same, as they will run
     * @param sync loop index -> bring that loop's per-forward tasks (health checks) up to date, on its thread
     */
    LoopReload(Kernel kernel, List<EventLoop> loops, List<ForwardingLoop> fls, List<Forward> added, List<Forward> addedBound,
            Map<String, int[]> fds, List<Forward> before, List<Forward> after, Starter starter, IntConsumer sync) {
        this.kernel = kernel;
        this.loops = loops;
        this.fls = fls;
        this.added = added;
        this.addedBound = addedBound;
        this.fds = fds;
        this.before = before;
        this.after = after;
        this.starter = starter;
        this.sync = sync;
        this.undone = new boolean[loops.size()];
    }

    /** Applies (or undoes) on every loop and waits; null if all succeeded, else what failed. */
    String onEveryLoop(boolean apply) throws InterruptedException {
        int n = loops.size();
        String[] failures = new String[n];
        CountDownLatch done = new CountDownLatch(n);
        for (int i = 0; i < n; i++) {
            int loop = i;
            ForwardingLoop fw = fls.get(i);
            boolean posted = loops.get(i).execute(() -> {
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
                if (!undone[loop]) for (int[] each : fds.values()) if (each[loop] >= 0) kernel.close(each[loop]);
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

    /** After every loop applied: {@code keys} (forwards as bound) stop listening everywhere. False on timeout. */
    boolean removeEverywhere(List<String> keys) throws InterruptedException {
        CountDownLatch removed = new CountDownLatch(loops.size());
        for (int i = 0; i < loops.size(); i++) {
            int loop = i;
            ForwardingLoop fw = fls.get(i);
            if (!loops.get(i).execute(() -> {
                try {
                    for (String key : keys) fw.removeListener(key);
                    sync.accept(loop);
                } finally {
                    removed.countDown();
                }
            })) removed.countDown();
        }
        return removed.await(5, TimeUnit.SECONDS);
    }

    private void apply(int loop, ForwardingLoop fw) {
        for (Forward f : after) fw.replaceForward(f);
        for (int j = 0; j < added.size(); j++) starter.start(fw, addedBound.get(j), fds.get(added.get(j).key())[loop]);
        sync.accept(loop);
    }

    /** Loop thread: stop what apply started (closing its sockets), close the sockets it never reached. */
    private void undo(int loop, ForwardingLoop fw) {
        if (undone[loop]) return;
        undone[loop] = true;
        for (int j = 0; j < added.size(); j++) {
            int fd = fds.get(added.get(j).key())[loop];
            if (!fw.removeListener(addedBound.get(j).key()) && fd >= 0) kernel.close(fd);
        }
        for (Forward f : before) fw.replaceForward(f);
        sync.accept(loop);
    }
}
