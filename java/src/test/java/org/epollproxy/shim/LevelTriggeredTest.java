package org.epollproxy.shim;

import static org.epollproxy.shim.Epoll.EPOLLIN;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * Lesson 1: level-triggered (the default) reports a socket as long as the condition holds. Unread data
 * keeps EPOLLIN coming on every wait, which is why a level-triggered loop may read a little at a time
 * and never loses a wakeup, and also why it must stop asking for IN when it does not want to read.
 */
class LevelTriggeredTest extends EpollLesson {
    @Test
    void inIsReportedAgainWhileUnreadDataRemains() {
        int[] p = net.pair();
        assertEquals(0, ep.add(p[1], EPOLLIN, 1));
        assertEquals(0, ep.wait(0), "nothing to read yet");

        assertEquals(100, net.send(p[0], 100, (byte) 'x'));
        for (int round = 0; round < 3; round++) {
            assertEquals(1, ep.wait(1000), "still readable on wait " + round);
            assertEquals(EPOLLIN, ep.events(0));
            assertEquals(1, ep.token(0));
        }
        // Read part of it: still readable. Read the rest: silence.
        assertEquals(40, net.recv(p[1], 40));
        assertEquals(1, ep.wait(1000));
        assertEquals(60, net.recv(p[1], 1000));
        assertEquals(0, ep.wait(0));
    }
}
