package org.epollproxy.loop;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.epollproxy.shim.InterposedKernel;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.Shim;
import org.junit.jupiter.api.Test;

/**
 * A wakeup that lands while the loop drains its eventfd must not be lost. The kernel here makes the
 * race certain: right before the loop's eventfd read, another wakeup happens (as if another thread's
 * execute came in at that instant). If the loop cleared its wakeup flag before reading, that wakeup's
 * write is swallowed by the read and the flag stays set, so every later execute/stop is lost and the
 * loop sleeps in epoll_wait for ever (seen with 1,000 concurrent stats scrapes).
 */
class WakeupRaceTest {

    @Test
    void aWakeupDuringTheEventfdReadIsNotLost() throws Exception {
        Kernel real = Shim.load();
        AtomicReference<EventLoop> loopRef = new AtomicReference<>();
        AtomicBoolean raced = new AtomicBoolean();
        Kernel racing = InterposedKernel.over(real, (name, args, call) -> {
            if (name.equals("eventfd_read") && raced.compareAndSet(false, true)) {
                loopRef.get().wakeup(); // another thread's wakeup, at the worst moment
            }
            return call.invoke();
        });
        EventLoop loop = new EventLoop(racing, 0, msg -> { });
        loopRef.set(loop);
        Thread t = new Thread(loop::run, "wakeup-race");
        t.start();
        try {
            CountDownLatch first = new CountDownLatch(1);
            loop.execute(first::countDown); // the wakeup whose eventfd read races
            assertTrue(first.await(30, TimeUnit.SECONDS), "the first task ran");
            // Without this the test passes vacuously when the loop never reads its eventfd at all.
            assertTrue(raced.get(), "the race was injected: a wakeup came during the loop's eventfd read");
            // The loop is (or soon is) back in epoll_wait with no timeout: only a wakeup gets it out.
            CountDownLatch second = new CountDownLatch(1);
            loop.execute(second::countDown);
            assertTrue(second.await(30, TimeUnit.SECONDS), "a task posted after the race ran: its wakeup was not lost");
        } finally {
            loop.stop();
            t.join(30_000);
            loop.close();
        }
        assertTrue(!t.isAlive(), "stop reached the loop");
    }
}
