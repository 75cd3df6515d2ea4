package org.epollproxy.shim;

import static org.epollproxy.shim.Epoll.EPOLLET;
import static org.epollproxy.shim.Epoll.EPOLLIN;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * Lesson 2: edge-triggered (EPOLLET) reports a change, not a state. Data left unread is not reported
 * again until more arrives, so an ET reader must drain the socket to -EAGAIN every time or stall.
 * epoll-proxy uses level-triggered mode for exactly this reason (as Netty 4.2, the JDK and redis do).
 */
class EdgeTriggeredTest extends EpollLesson {
    @Test
    void unreadDataIsNotReportedAgainUntilNewDataArrives() {
        int[] p = net.pair();
        assertEquals(0, ep.add(p[1], EPOLLIN | EPOLLET, 1));
        assertEquals(100, net.send(p[0], 100, (byte) 'x'));
        assertEquals(1, ep.wait(1000));
        assertEquals(EPOLLIN, ep.events(0));

        assertEquals(10, net.recv(p[1], 10)); // 90 bytes stay unread
        assertEquals(0, ep.wait(50), "no new edge: the 90 unread bytes are not reported");

        assertEquals(1, net.send(p[0], 1, (byte) 'y')); // new data is a new edge
        assertEquals(1, ep.wait(1000));
        assertEquals(91, net.recv(p[1], 1000));
        assertEquals(-Errno.EAGAIN, net.recv(p[1], 1000), "drained: the ET reader may wait again");
    }
}
