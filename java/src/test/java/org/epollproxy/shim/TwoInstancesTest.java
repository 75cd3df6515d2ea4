package org.epollproxy.shim;

import static org.epollproxy.shim.Epoll.EPOLLIN;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * Lesson 11: two epoll instances may watch one fd, and both report its events. "Careful programming may
 * be needed": the readiness is the socket's, so once one reader drains it, neither reports it any more.
 */
class TwoInstancesTest extends EpollLesson {
    @Test
    void bothInstancesReportTheEventAndOneReadDrainsItForBoth() {
        int[] p = net.pair();
        try (Epoll other = Epoll.open(net.k, 4)) {
            assertEquals(0, ep.add(p[1], EPOLLIN, 1));
            assertEquals(0, other.add(p[1], EPOLLIN, 2), "a second instance: its own registration, its own token");
            assertEquals(3, net.send(p[0], 3, (byte) 'x'));

            assertEquals(1, ep.wait(1000));
            assertEquals(1L, ep.token(0));
            assertEquals(1, other.wait(1000), "the same bytes wake the other instance too");
            assertEquals(2L, other.token(0));

            assertEquals(3, net.recv(p[1], 100), "whoever reads first takes the bytes");
            assertEquals(0, ep.wait(0));
            assertEquals(0, other.wait(0), "and the other finds nothing left to report");
        }
    }
}
