package org.epollproxy.shim;

import static org.epollproxy.shim.Epoll.EPOLLIN;
import static org.epollproxy.shim.Epoll.EPOLLRDHUP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Lesson 5: recv's three answers. {@code -EAGAIN}: nothing now (a non-blocking socket never waits).
 * {@code 0}: the peer sent FIN (shutdown(SHUT_WR) or close), and stays 0 forever after: a socket at EOF
 * is readable for good, so a level-triggered loop must drop IN once it saw 0. EPOLLRDHUP announces the
 * peer's FIN before the read.
 */
class RecvTest extends EpollLesson {
    @Test
    void emptyIsEagainAndFinIsZero() {
        int[] p = net.pair();
        assertEquals(-Errno.EAGAIN, net.recv(p[1], 100));
        assertEquals(3, net.send(p[0], 3, (byte) 'a'));
        assertEquals(0, ep.add(p[1], EPOLLIN, 1));
        assertEquals(1, ep.wait(1000));
        assertEquals(3, net.recv(p[1], 100));
        assertEquals(0, net.k.shutdown(p[0], Net.SHUT_WR));
        assertEquals(1, ep.wait(1000));
        assertEquals(0, net.recv(p[1], 100), "FIN");
        assertEquals(1, ep.wait(0), "EOF stays readable: level-triggered IN would spin");
        assertEquals(0, net.recv(p[1], 100), "and recv stays 0");
    }

    @Test
    void peerShutdownWriteShowsRdhupAndTheOtherDirectionStillWorks() {
        int[] p = net.pair();
        assertEquals(0, ep.add(p[1], EPOLLIN | EPOLLRDHUP, 1));
        assertEquals(0, net.k.shutdown(p[0], Net.SHUT_WR));
        assertEquals(1, ep.wait(1000));
        assertEquals(EPOLLIN | EPOLLRDHUP, ep.events(0));
        assertEquals(0, net.recv(p[1], 100));
        // Half-closed: the side that got FIN can still send, and the sender of FIN can still read.
        assertEquals(5, net.send(p[1], 5, (byte) 'r'));
        int n = -Errno.EAGAIN;
        for (int i = 0; i < 1000 && n == -Errno.EAGAIN; i++) {
            n = net.recv(p[0], 100);
            if (n == -Errno.EAGAIN) Loopback.sleep(1);
        }
        assertEquals(5, n);
        assertTrue(net.buf.buffer().get(0) == 'r');
    }
}
