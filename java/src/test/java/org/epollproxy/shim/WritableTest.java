package org.epollproxy.shim;

import static org.epollproxy.shim.Epoll.EPOLLIN;
import static org.epollproxy.shim.Epoll.EPOLLOUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Lesson 4: EPOLLOUT means "the send buffer has room", which is true almost always. Registered
 * permanently it would wake a level-triggered loop on every wait, so a forwarder asks for OUT only while
 * it has bytes the peer did not take (after a partial send or -EAGAIN) and drops it once they are sent.
 */
class WritableTest extends EpollLesson {
    /** Sends until the kernel refuses; returns the bytes it took. */
    private long fill(int fd) {
        long total = 0;
        for (int i = 0; i < 100_000; i++) {
            int n = net.send(fd, 65536, (byte) 'z');
            if (n == -Errno.EAGAIN) return total;
            assertTrue(n > 0, () -> "send: " + Errno.name(n));
            total += n;
        }
        throw new AssertionError("the send buffer never filled");
    }

    @Test
    void outIsReportedWhileTheSendBufferHasRoomAndSendEndsInEagainWhenFull() {
        int[] p = net.pair();
        assertEquals(0, ep.add(p[0], EPOLLOUT, 1));
        assertEquals(1, ep.wait(1000));
        assertEquals(EPOLLOUT, ep.events(0));
        assertEquals(1, ep.wait(1000), "level-triggered: still writable, reported again");

        long sent = fill(p[0]); // the reader (p[1]) reads nothing
        assertTrue(sent > 0);
        assertEquals(0, ep.wait(50), "full: no OUT");

        // The reader drains; room appears; OUT comes back.
        long drained = 0;
        while (drained < sent) {
            int n = net.recv(p[1], 1 << 20);
            if (n == -Errno.EAGAIN) {
                Loopback.sleep(1);
                continue;
            }
            assertTrue(n > 0);
            drained += n;
        }
        assertEquals(1, ep.wait(1000));
        assertEquals(EPOLLOUT, ep.events(0));
    }

    @Test
    void modTogglesOutOnAndOff() {
        int[] p = net.pair();
        assertEquals(0, ep.add(p[0], EPOLLIN, 1));
        assertEquals(0, ep.wait(0), "IN only and nothing to read: quiet");
        assertEquals(0, ep.modify(p[0], EPOLLIN | EPOLLOUT, 1));
        assertEquals(1, ep.wait(1000));
        assertEquals(EPOLLOUT, ep.events(0));
        assertEquals(0, ep.modify(p[0], EPOLLIN, 1));
        assertEquals(0, ep.wait(0), "OUT dropped: quiet again");
    }
}
