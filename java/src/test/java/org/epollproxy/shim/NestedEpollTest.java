package org.epollproxy.shim;

import static org.epollproxy.shim.Epoll.EPOLLIN;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * Lesson 18: an epoll fd is itself pollable: it reads as EPOLLIN while it has events waiting, so it can
 * sit in another epoll instance (a loop inside a loop, or a library's epoll inside yours). It cannot
 * watch itself: EINVAL.
 */
class NestedEpollTest extends EpollLesson {
    @Test
    void anInnerEpollFdIsReadableInTheOuterWhenItHasEvents() {
        int[] p = net.pair();
        try (Epoll inner = Epoll.open(net.k, 4)) {
            assertEquals(0, inner.add(p[1], EPOLLIN, 1));
            assertEquals(0, ep.add(inner.fd(), EPOLLIN, 99), "the inner instance, watched by the outer one");
            assertEquals(0, ep.wait(50), "nothing waits in the inner instance yet");

            assertEquals(1, net.send(p[0], 1, (byte) 'x'));
            assertEquals(1, ep.wait(1000), "the outer wait wakes...");
            assertEquals(99L, ep.token(0), "...for the inner instance");
            assertEquals(EPOLLIN, ep.events(0));
            assertEquals(1, inner.wait(0), "whose own wait then says which fd");
            assertEquals(1L, inner.token(0));
        }
    }

    @Test
    void anEpollFdCannotWatchItself() {
        assertEquals(-Errno.EINVAL, ep.add(ep.fd(), EPOLLIN, 1));
    }
}
