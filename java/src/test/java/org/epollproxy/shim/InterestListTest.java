package org.epollproxy.shim;

import static org.epollproxy.shim.Epoll.EPOLLIN;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * Lesson 8: the interest list. EPOLL_CTL_DEL stops reports at once. Closing an fd also removes it (when
 * no dup of it is open), which is why epoll-proxy closes without a DEL, and why it tags events with a
 * token (slot + generation) instead of the fd: a number closed and reused by accept in the same batch
 * must not be mistaken for the old connection.
 */
class InterestListTest extends EpollLesson {
    @Test
    void delStopsReports() {
        int[] p = net.pair();
        assertEquals(0, ep.add(p[1], EPOLLIN, 1));
        assertEquals(5, net.send(p[0], 5, (byte) 'x'));
        assertEquals(1, ep.wait(1000));
        assertEquals(0, ep.delete(p[1]));
        assertEquals(0, ep.wait(50), "deleted: unread data no longer reported");
        assertEquals(-Errno.ENOENT, ep.delete(p[1]), "and it is gone from the list");
    }

    @Test
    void aClosedFdLeavesTheInterestList() {
        int[] p = net.pair();
        assertEquals(0, ep.add(p[1], EPOLLIN, 1));
        assertEquals(5, net.send(p[0], 5, (byte) 'x'));
        net.closeNow(p[1]);
        assertEquals(0, ep.wait(50), "closed: nothing reported, although data was pending");
    }
}
