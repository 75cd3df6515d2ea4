package org.epollproxy.shim;

import static org.epollproxy.shim.Epoll.EPOLLIN;
import static org.epollproxy.shim.Epoll.EPOLLONESHOT;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * Lesson 3: EPOLLONESHOT reports one event, then disarms the fd (it stays in the interest list with an
 * empty mask) until EPOLL_CTL_MOD re-arms it. Threads sharing one epoll fd use it so that only one
 * of them handles a socket at a time.
 */
class OneShotTest extends EpollLesson {
    @Test
    void oneEventThenSilenceUntilRearmedWithMod() {
        int[] p = net.pair();
        assertEquals(0, ep.add(p[1], EPOLLIN | EPOLLONESHOT, 5));
        assertEquals(10, net.send(p[0], 10, (byte) 'x'));
        assertEquals(1, ep.wait(1000));
        assertEquals(5, ep.token(0));
        assertEquals(0, ep.wait(50), "disarmed although the data is still unread");

        assertEquals(0, ep.modify(p[1], EPOLLIN | EPOLLONESHOT, 6));
        assertEquals(1, ep.wait(1000), "re-armed by MOD");
        assertEquals(6, ep.token(0), "MOD also replaced the token");
        assertEquals(0, ep.wait(50));
        assertEquals(-Errno.EEXIST, ep.add(p[1], EPOLLIN, 7), "a disarmed fd is still in the interest list");
    }
}
