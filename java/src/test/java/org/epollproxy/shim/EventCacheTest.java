package org.epollproxy.shim;

import static org.epollproxy.shim.Epoll.EPOLLIN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * Lesson 17: the event-cache pitfall. A batch of events is a list of fds that were ready when the wait
 * returned (lesson 14). If handling event #1 closes the fd of event #2 and a new fd (an accept, a connect)
 * takes its number, which the kernel gives out lowest first, then event #2 names the newcomer, which never
 * had that event. The man page's cure is to mark the closed fd's structure as removed; epoll-proxy's
 * EventLoop does it with its token: {@code (generation << 32) | slot}. Closing bumps the slot's generation,
 * so an event carrying the old token is recognised as stale and dropped.
 *
 * <p>Isolated: the lesson relies on the kernel handing the closed number to the next fd, which another test
 * class opening fds at the same moment could take first.
 */
@Isolated
class EventCacheTest extends EpollLesson {
    /** Two readable connections, both reported in one batch; returns {first, second} by batch order. */
    private int[] twoEventsInOneBatch(long tokenA, long tokenB, int[] a, int[] b) {
        assertEquals(0, ep.add(a[1], EPOLLIN, tokenA));
        assertEquals(0, ep.add(b[1], EPOLLIN, tokenB));
        assertEquals(1, net.send(a[0], 1, (byte) 'a'));
        assertEquals(1, net.send(b[0], 1, (byte) 'b'));
        assertEquals(2, ep.wait(1000), "both in one batch");
        return ep.token(0) == tokenA ? new int[] {a[1], b[1]} : new int[] {b[1], a[1]};
    }

    @Test
    void withTheFdNumberAsTokenAClosedAndReusedFdInheritsAStaleEvent() {
        int[] a = net.pair();
        int[] b = net.pair();
        int[] order = twoEventsInOneBatch(a[1], b[1], a, b);
        int victim = order[1];

        // Handling event #1 closes the fd of event #2, and a new fd gets its number at once.
        net.closeNow(victim);
        int newcomer = net.track(net.k.eventfd());
        assertEquals(victim, newcomer, "the lowest free number: the one just closed");

        // Event #2, from the batch, names that number: the newcomer, which is not readable at all.
        assertEquals(newcomer, (int) ep.token(1), "the cached event now points at the wrong file");
        assertEquals(-Errno.EAGAIN, net.k.eventfd_read(newcomer), "a handler trusting it would find nothing, or worse");
    }

    @Test
    void aGenerationInTheTokenMakesTheStaleEventRecognisable() {
        int[] generation = new int[1024]; // per fd number here; EventLoop keeps one per slot
        int[] a = net.pair();
        int[] b = net.pair();
        int[] order = twoEventsInOneBatch(token(a[1], generation), token(b[1], generation), a, b);
        int victim = order[1];

        net.closeNow(victim);
        generation[victim]++; // what EventLoop.release does to the slot
        int newcomer = net.track(net.k.eventfd());
        assertEquals(victim, newcomer);

        long stale = ep.token(1);
        assertEquals(newcomer, (int) stale, "the same number...");
        assertNotEquals(generation[newcomer], (int) (stale >>> 32), "...but an older generation: dropped, not delivered");
    }

    private static long token(int fd, int[] generation) {
        return ((long) generation[fd] << 32) | fd;
    }
}
