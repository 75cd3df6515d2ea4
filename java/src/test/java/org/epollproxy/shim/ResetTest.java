package org.epollproxy.shim;

import static org.epollproxy.shim.Epoll.EPOLLERR;
import static org.epollproxy.shim.Epoll.EPOLLHUP;
import static org.epollproxy.shim.Epoll.EPOLLIN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Lesson 6: an RST (the peer closed with SO_LINGER {1, 0}) shows as EPOLLHUP|EPOLLERR, reported even
 * for a mask without them, and recv then says -ECONNRESET. A send to a reset socket gives -EPIPE or
 * -ECONNRESET, never a SIGPIPE, because the shim always passes MSG_NOSIGNAL.
 */
class ResetTest extends EpollLesson {
    @Test
    void resetShowsHupErrAndRecvSaysEconnreset() {
        int[] p = net.pair();
        assertEquals(0, net.k.set_linger(p[0], 1, 0));
        net.closeNow(p[0]); // RST
        assertEquals(0, ep.add(p[1], EPOLLIN, 1));
        assertEquals(1, ep.wait(1000));
        int ev = ep.events(0);
        assertEquals(EPOLLIN | EPOLLHUP | EPOLLERR, ev, Epoll.describe(ev));
        assertEquals(-Errno.ECONNRESET, net.recv(p[1], 100));
    }

    @Test
    void errAndHupAreReportedEvenWithAnEmptyMask() {
        int[] p = net.pair();
        assertEquals(0, ep.add(p[1], 0, 1)); // registered, interested in nothing
        assertEquals(0, net.k.set_linger(p[0], 1, 0));
        net.closeNow(p[0]);
        assertEquals(1, ep.wait(1000), "a loop that leaves this fd registered wakes forever");
        assertEquals(EPOLLHUP | EPOLLERR, ep.events(0));
        assertEquals(1, ep.wait(0), "and again: EPOLL_CTL_DEL (or close) is the only cure");
    }

    @Test
    void sendingToAResetSocketFailsWithoutSigpipe() {
        int[] p = net.pair();
        assertEquals(0, net.k.set_linger(p[0], 1, 0));
        net.closeNow(p[0]);
        Loopback.sleep(20);
        int rc = net.send(p[1], 10, (byte) 'x');
        assertTrue(rc == -Errno.EPIPE || rc == -Errno.ECONNRESET, Errno.name(rc));
        // The JVM is still here: MSG_NOSIGNAL kept SIGPIPE away.
        int again = net.send(p[1], 10, (byte) 'x');
        assertEquals(-Errno.EPIPE, again);
    }
}
