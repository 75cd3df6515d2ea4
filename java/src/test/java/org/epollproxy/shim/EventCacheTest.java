package org.epollproxy.shim;

import static org.epollproxy.shim.Epoll.EPOLLIN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.function.IntToLongFunction;
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
 * <p>The lesson needs the kernel to hand the closed number to the next fd. Another thread of this JVM
 * (a test's leftover loop, class loading) may open an fd in between and take it first, so each test tries
 * the situation again, on fresh sockets and a fresh epoll instance, until it happens (isolated from the
 * other test classes, it happens at once nearly always).
 */
@Isolated
class EventCacheTest extends EpollLesson {
    private static final int ATTEMPTS = 50;

    /** One batch of two events (A's and B's) in which handling the first closed the second's fd and reused its number. */
    private record Reused(Epoll batch, int victim, int newcomer) {}

    /**
     * Two readable connections in one batch of {@code e}, registered with {@code tokenOf(fd)}; the second
     * event's fd is closed and an eventfd opened. Null if the eventfd did not get the closed number.
     */
    private Reused closeAndReuseWithinOneBatch(Epoll e, IntToLongFunction tokenOf, int[] generation) {
        int[] a = net.pair();
        int[] b = net.pair();
        assertEquals(0, e.add(a[1], EPOLLIN, tokenOf.applyAsLong(a[1])));
        assertEquals(0, e.add(b[1], EPOLLIN, tokenOf.applyAsLong(b[1])));
        assertEquals(1, net.send(a[0], 1, (byte) 'a'));
        assertEquals(1, net.send(b[0], 1, (byte) 'b'));
        assertEquals(2, e.wait(1000), "both in one batch");
        int victim = (int) e.token(1); // handling event #1 closes the fd of event #2...

        net.closeNow(victim);
        generation[victim]++; // (what EventLoop.release does to the slot, for the test that uses generations)
        int newcomer = net.track(net.k.eventfd()); // ...and a new fd is opened at once
        return newcomer == victim ? new Reused(e, victim, newcomer) : null;
    }

    @Test
    void withTheFdNumberAsTokenAClosedAndReusedFdInheritsAStaleEvent() {
        int[] generation = new int[1 << 16];
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            try (Epoll e = Epoll.open(net.k, 8)) {
                Reused r = closeAndReuseWithinOneBatch(e, fd -> fd, generation);
                if (r == null) continue;
                assertEquals(r.victim(), r.newcomer(), "the lowest free number: the one just closed");
                // Event #2, from the batch, names that number: the newcomer, which is not readable at all.
                assertEquals(r.newcomer(), (int) r.batch().token(1), "the cached event now points at the wrong file");
                assertEquals(-Errno.EAGAIN, net.k.eventfd_read(r.newcomer()), "a handler trusting it would find nothing, or worse");
                return;
            }
        }
        fail("the closed fd's number never went to the next fd in " + ATTEMPTS + " attempts");
    }

    @Test
    void aGenerationInTheTokenMakesTheStaleEventRecognisable() {
        int[] generation = new int[1 << 16]; // per fd number here; EventLoop keeps one per slot
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            try (Epoll e = Epoll.open(net.k, 8)) {
                Reused r = closeAndReuseWithinOneBatch(e, fd -> ((long) generation[fd] << 32) | fd, generation);
                if (r == null) continue;
                long stale = r.batch().token(1);
                assertEquals(r.newcomer(), (int) stale, "the same number...");
                assertNotEquals(generation[r.newcomer()], (int) (stale >>> 32), "...but an older generation: dropped, not delivered");
                return;
            }
        }
        fail("the closed fd's number never went to the next fd in " + ATTEMPTS + " attempts");
    }
}
