package org.epollproxy.shim;

import static org.epollproxy.shim.Epoll.EPOLLET;
import static org.epollproxy.shim.Epoll.EPOLLIN;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * Lesson 14: does an operation change events already collected? Once epoll_wait returned, its events are
 * a copy in your buffer: a DEL (or a close) while you walk that buffer does not take an event back, so the
 * loop must check, for each event, that what it names is still what it was (lesson 17). An event not yet
 * collected is another matter: DEL removes it, and MOD "rereads available I/O", which re-reports a
 * readiness even an edge-triggered registration had already consumed.
 */
class CollectedEventsTest extends EpollLesson {
    @Test
    void aDelAfterTheWaitDoesNotRecallTheCollectedEvent() {
        int[] p = net.pair();
        assertEquals(0, ep.add(p[1], EPOLLIN, 42));
        assertEquals(5, net.send(p[0], 5, (byte) 'x'));
        assertEquals(1, ep.wait(1000));

        assertEquals(0, ep.delete(p[1]), "deleted while its event sits in our buffer");
        assertEquals(42L, ep.token(0), "the collected event is still there, token and all");
        assertEquals(EPOLLIN, ep.events(0));
        assertEquals(0, ep.wait(50), "the next wait knows of the DEL");
    }

    @Test
    void modRereadsTheReadinessAnEdgeAlreadyReported() {
        int[] p = net.pair();
        assertEquals(0, ep.add(p[1], EPOLLIN | EPOLLET, 1));
        assertEquals(5, net.send(p[0], 5, (byte) 'x'));
        assertEquals(1, ep.wait(1000), "the edge");
        assertEquals(0, ep.wait(50), "consumed: edge-triggered, the unread bytes are not reported again");

        assertEquals(0, ep.modify(p[1], EPOLLIN | EPOLLET, 1), "MOD with the same mask");
        assertEquals(1, ep.wait(1000), "MOD looked at the socket again and found it readable");
        assertEquals(EPOLLIN, ep.events(0));
    }
}
