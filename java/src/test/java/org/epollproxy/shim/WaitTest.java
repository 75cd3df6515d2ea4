package org.epollproxy.shim;

import static org.epollproxy.shim.Epoll.EPOLLIN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Lesson 9: epoll_wait's timeout is the loop's clock (timers need no threads), and an eventfd is how
 * another thread wakes a loop blocked in epoll_wait (for shutdown, reload, posted tasks).
 */
class WaitTest extends EpollLesson {
    @Test
    void aTimeoutReturnsZeroAfterAboutThatLong() {
        long t0 = System.nanoTime();
        assertEquals(0, ep.wait(100));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms >= 95, "returned after " + ms + " ms, before the timeout");
        assertTrue(ms < 5000, "returned after " + ms + " ms");
    }

    @Test
    void anEventfdWriteWakesABlockedWaitFromAnotherThread() throws Exception {
        int efd = net.track(net.k.eventfd());
        assertEquals(0, ep.add(efd, EPOLLIN, 99));
        AtomicInteger result = new AtomicInteger(-1);
        Thread waiter = new Thread(() -> result.set(ep.wait(-1)));
        waiter.start();
        Thread.sleep(50);
        assertTrue(waiter.isAlive(), "blocked in epoll_wait");
        assertEquals(0, net.k.eventfd_write(efd));
        waiter.join(5000);
        assertEquals(1, result.get());
        assertEquals(99, ep.token(0));
        assertEquals(1, net.k.eventfd_read(efd), "the counter holds the one write; reading resets it");
        assertEquals(-Errno.EAGAIN, net.k.eventfd_read(efd));
    }
}
