package org.epollproxy.shim;

import static org.epollproxy.shim.Epoll.EPOLLIN;
import static org.epollproxy.shim.Epoll.EPOLLOUT;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * Lesson 13: events that happen between two waits are combined. epoll reports the state of each
 * registration once per wait, not one entry per arrival: three sends make one EPOLLIN, and a socket both
 * readable and writable makes one event with both bits. So an event count says nothing about how much
 * data waits; read until recv says so.
 */
class CombinedEventsTest extends EpollLesson {
    @Test
    void threeSendsBetweenTwoWaitsAreOneEvent() {
        int[] p = net.pair();
        assertEquals(0, ep.add(p[1], EPOLLIN, 1));
        for (int i = 0; i < 3; i++) assertEquals(10, net.send(p[0], 10, (byte) ('a' + i)));

        assertEquals(1, ep.wait(1000), "one event for three arrivals");
        assertEquals(30, net.recv(p[1], 1000), "and the bytes of all three wait behind it");
    }

    @Test
    void readableAndWritableAreOneEventWithBothBits() {
        int[] p = net.pair();
        assertEquals(0, ep.add(p[1], EPOLLIN | EPOLLOUT, 1));
        assertEquals(1, net.send(p[0], 1, (byte) 'x'));

        assertEquals(1, ep.wait(1000));
        assertEquals(EPOLLIN | EPOLLOUT, ep.events(0), "one entry per registration, the bits ORed");
    }
}
