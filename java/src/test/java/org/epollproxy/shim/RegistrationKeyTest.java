package org.epollproxy.shim;

import static org.epollproxy.shim.Epoll.EPOLLIN;
import static org.epollproxy.shim.Epoll.EPOLLOUT;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Lesson 10: what identifies a registration. epoll keys its interest list on the pair (fd number, open
 * file description). The same fd twice is EEXIST; a dup() of it is a new number for the same file, so it
 * is a second registration with its own mask and token, reported on its own.
 */
class RegistrationKeyTest extends EpollLesson {
    @Test
    void theSameFdTwiceIsEexist() {
        int[] p = net.pair();
        assertEquals(0, ep.add(p[1], EPOLLIN, 1));
        assertEquals(-Errno.EEXIST, ep.add(p[1], EPOLLOUT, 2), "one registration per (fd, file)");
        assertEquals(0, ep.modify(p[1], EPOLLIN | EPOLLOUT, 2), "change a registration with MOD instead");
    }

    @Test
    void aDupIsASecondRegistrationWithItsOwnMask() {
        int[] p = net.pair();
        int d = net.dup(p[1]);
        assertEquals(0, ep.add(p[1], EPOLLIN, 1), "the socket, for reading");
        assertEquals(0, ep.add(d, EPOLLOUT, 2), "its dup, for writing: not EEXIST, the fd number differs");
        assertEquals(5, net.send(p[0], 5, (byte) 'x'));

        assertEquals(2, ep.wait(1000), "one socket, two registrations, two events");
        Map<Long, Integer> byToken = new HashMap<>();
        for (int i = 0; i < 2; i++) byToken.put(ep.token(i), ep.events(i));
        assertEquals(EPOLLIN, byToken.get(1L), "each registration reports only its own mask");
        assertEquals(EPOLLOUT, byToken.get(2L));
    }
}
