package org.epollproxy.loop;

import static org.epollproxy.shim.Epoll.EPOLLIN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.Shim;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The loop itself: tokens with generations, cached interest, timers, cross-thread tasks, failures. */
class EventLoopTest {
    private final Kernel k = Shim.load();
    private final List<String> errors = new ArrayList<>();
    private final EventLoop loop = new EventLoop(k, 0, errors::add);
    private final List<Integer> fds = new ArrayList<>();

    @AfterEach
    void close() {
        for (int fd : fds) k.close(fd);
        loop.close();
    }

    /** A readable eventfd: a stand-in for any socket with data waiting. */
    private int readableFd() {
        int fd = k.eventfd();
        fds.add(fd);
        k.eventfd_write(fd);
        return fd;
    }

    private static Handler handler(Runnable onEvent) {
        return new Handler() {
            @Override
            public void onEvent(int events) {
                onEvent.run();
            }

            @Override
            public void onFailure(RuntimeException e) {}
        };
    }

    @Test
    void anEventForAnFdClosedEarlierInTheSameBatchIsStaleNotMisdelivered() {
        assertEquals(2, staleEventInOneBatch(loop, k, fds), "both were ready in one batch");
    }

    /**
     * Two readable fds in one batch; whichever is dispatched first closes the other, and a new fd takes the
     * freed slot at once (the free list is LIFO, as accept reuses the lowest fd number). The closed fd's
     * event must be recognised as stale, not delivered to the newcomer. Returns the first iteration's count
     * (epoll: both events returned; io_uring: the one dispatched). Shared with UringLoopTest.
     */
    static int staleEventInOneBatch(EventLoop loop, Kernel k, List<Integer> fds) {
        int[] theFds = new int[2];
        for (int i = 0; i < 2; i++) {
            theFds[i] = k.eventfd();
            fds.add(theFds[i]);
            k.eventfd_write(theFds[i]);
        }
        long[] tokens = new long[2];
        AtomicInteger newcomerCalls = new AtomicInteger();
        boolean[] done = {false};
        for (int i = 0; i < 2; i++) {
            int self = i;
            tokens[i] = loop.register(theFds[i], handler(() -> {
                if (done[0]) return;
                done[0] = true;
                int other = 1 - self;
                loop.release(tokens[other], false);
                k.close(theFds[other]);
                fds.remove((Integer) theFds[other]);
                int fresh = k.eventfd();
                fds.add(fresh);
                k.eventfd_write(fresh);
                long tc = loop.register(fresh, handler(newcomerCalls::incrementAndGet));
                assertEquals((int) tokens[other], (int) tc, "the slot was reused");
                assertEquals(0, loop.setInterest(tc, EPOLLIN));
            }));
            assertEquals(0, loop.setInterest(tokens[i], EPOLLIN));
        }

        int n = loop.runOnce(5000);
        assertEquals(1, loop.stats().staleEvents, "the closed fd's event was recognised as stale");
        assertEquals(0, newcomerCalls.get(), "and not delivered to the new fd in its slot");
        loop.runOnce(5000);
        assertEquals(1, newcomerCalls.get(), "the new fd gets its own events from the next wait on");
        return n;
    }

    @Test
    void setInterestCallsEpollCtlOnlyWhenTheMaskChanges() {
        int a = readableFd();
        long t = loop.register(a, handler(() -> {}));
        assertEquals(0, loop.setInterest(t, EPOLLIN));
        assertEquals(0, loop.setInterest(t, EPOLLIN));
        assertEquals(0, loop.setInterest(t, EPOLLIN | org.epollproxy.shim.Epoll.EPOLLOUT));
        assertEquals(0, loop.setInterest(t, 0));
        assertEquals(1, loop.stats().ctlAdd);
        assertEquals(1, loop.stats().ctlMod);
        assertEquals(1, loop.stats().ctlDel, "mask 0 leaves the epoll set (HUP/ERR would spin otherwise)");
        assertEquals(0, loop.interest(t));
    }

    @Test
    void timersFireInDeadlineOrderAndCancelledOnesNever() {
        List<String> fired = new ArrayList<>();
        long now = System.nanoTime();
        Timer t1 = timer("30ms", fired);
        Timer t2 = timer("10ms", fired);
        Timer t3 = timer("20ms", fired);
        Timer cancelled = timer("15ms", fired);
        loop.schedule(t1, now + 30_000_000);
        loop.schedule(t2, now + 10_000_000);
        loop.schedule(t3, now + 20_000_000);
        loop.schedule(cancelled, now + 15_000_000);
        loop.cancel(cancelled);
        assertFalse(cancelled.isScheduled());
        long t0 = System.nanoTime();
        while (fired.size() < 3 && System.nanoTime() - t0 < 5_000_000_000L) loop.runOnce(-1);
        assertEquals(List.of("10ms", "20ms", "30ms"), fired);
        assertTrue(System.nanoTime() - now >= 30_000_000, "not before the last deadline");
    }

    /**
     * A task that starts after another one held the loop (here: moved the loop's clock 10 s on) sets its
     * deadlines from the clock as it starts: a 5 s timer it schedules does not fire on the next turn, when no
     * time has passed since. (With the clock of the wakeup, it was 5 s overdue before it was even set: a
     * drain posted behind a busy loop timed out the connects of the clients it took in.)
     */
    @Test
    void aTaskSetsItsDeadlinesFromTheClockAsItStartsNotFromTheWakeup() {
        long[] clock = {1_000_000_000L};
        List<String> fired = new ArrayList<>();
        Timer fiveSeconds = timer("5s", fired);
        long[] seen = new long[1];
        try (EventLoop held = new EventLoop(k, 1, errors::add, () -> clock[0])) {
            held.execute(() -> clock[0] += 10_000_000_000L); // a task that ran 10 s
            held.execute(() -> {
                seen[0] = held.now();
                held.schedule(fiveSeconds, held.now() + 5_000_000_000L);
            });
            held.runOnce(0);
            assertEquals(11_000_000_000L, seen[0], "the second task sees the clock as it starts");
            held.runOnce(0);
            assertEquals(List.of(), fired, "no time has passed since the timer was set");
            clock[0] += 5_000_000_000L;
            held.runOnce(0);
            assertEquals(List.of("5s"), fired, "it fires 5 s after the task set it");
        }
        assertEquals(List.of(), errors);
    }

    private static Timer timer(String name, List<String> fired) {
        return new Timer() {
            @Override
            protected void onTimer(long now) {
                fired.add(name);
            }
        };
    }

    @Test
    void aTaskFromAnotherThreadWakesABlockedLoop() throws Exception {
        CountDownLatch ran = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            while (ran.getCount() > 0) loop.runOnce(-1);
        });
        t.start();
        Thread.sleep(50);
        loop.execute(ran::countDown);
        assertTrue(ran.await(5, TimeUnit.SECONDS));
        t.join(5000);
        assertTrue(loop.stats().wakeups >= 1);
    }

    @Test
    void aHandlerThatThrowsIsCleanedUpAndTheLoopServesOn() {
        int bad = readableFd();
        int good = readableFd();
        AtomicInteger failures = new AtomicInteger();
        AtomicInteger goodCalls = new AtomicInteger();
        long tb = loop.register(bad, new Handler() {
            @Override
            public void onEvent(int events) {
                throw new IllegalStateException("injected");
            }

            @Override
            public void onFailure(RuntimeException e) {
                failures.incrementAndGet();
                loop.release(tbHolder[0], true);
            }
        });
        tbHolder[0] = tb;
        long tg = loop.register(good, handler(goodCalls::incrementAndGet));
        loop.setInterest(tb, EPOLLIN);
        loop.setInterest(tg, EPOLLIN);
        loop.runOnce(1000);
        loop.runOnce(100);
        assertEquals(1, failures.get());
        assertEquals(2, goodCalls.get(), "the other fd was served in both iterations");
        assertEquals(1, loop.stats().handlerFailures);
        assertTrue(errors.get(0).contains("injected"), errors.toString());
    }

    private final long[] tbHolder = new long[1];
}
