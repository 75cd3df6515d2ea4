package org.epollproxy.shim;

import static org.epollproxy.shim.Epoll.EPOLLIN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Test;

/**
 * Lesson 12: closing an fd removes it from the interest list only when it was the last fd of its open
 * file description. While a dup() (or a fork()'s copy, or a copy passed to another process) is open, the
 * registration lives on: events keep coming with the closed fd's token, and it can no longer be deleted,
 * because EPOLL_CTL_DEL names a registration by an fd number that no longer exists (EBADF) and the dup's
 * number is not part of the key (ENOENT). The cure is EPOLL_CTL_DEL before close. epoll-proxy does exactly
 * that for listening sockets, which another process may hold after a takeover or under systemd.
 */
class ClosedWithDupTest extends EpollLesson {
    @Test
    void eventsKeepComingForAClosedFdWhileADupIsOpen() {
        int[] p = net.pair();
        assertEquals(0, ep.add(p[1], EPOLLIN, 7));
        int d = net.dup(p[1]);
        net.closeNow(p[1]);
        assertEquals(5, net.send(p[0], 5, (byte) 'x'));

        assertEquals(1, ep.wait(1000), "the closed fd is still reported");
        assertEquals(7L, ep.token(0), "with the token of the fd that was closed");
        assertEquals(1, ep.wait(1000), "and again, level-triggered, for as long as the bytes stay unread");

        net.closeNow(d);
        assertEquals(0, ep.wait(50), "the last fd of the file closed: now the registration is gone");
    }

    @Test
    void delOnTheClosedNumberFailsEbadfAndOnTheDupEnoent() {
        // EBADF needs the closed number to stay free until the DEL; another thread of this JVM may take it
        // first (then DEL names that other file: ENOENT), so the situation is tried again, on fresh fds.
        for (int attempt = 0; attempt < 50; attempt++) {
            try (Epoll e = Epoll.open(net.k, 8)) {
                int[] p = net.pair();
                int closedNumber = p[1];
                assertEquals(0, e.add(closedNumber, EPOLLIN, 7));
                int d = net.dup(closedNumber);
                net.closeNow(closedNumber);

                int rc = e.delete(closedNumber);
                if (rc != -Errno.EBADF && net.k.get_fd_flags(closedNumber) >= 0) continue; // the number was reused
                assertEquals(-Errno.EBADF, rc, "the number names no open file any more");
                assertEquals(-Errno.ENOENT, e.delete(d), "the dup is the right file but not the registered number");
                assertEquals(5, net.send(p[0], 5, (byte) 'x'));
                assertEquals(1, e.wait(1000), "so nothing stops the events but closing every copy");
                return;
            }
        }
        fail("the closed number was always reused before the DEL");
    }

    @Test
    void delBeforeCloseEndsTheEventsWhateverCopiesRemain() {
        int[] p = net.pair();
        assertEquals(0, ep.add(p[1], EPOLLIN, 7));
        net.dup(p[1]);
        assertEquals(0, ep.delete(p[1]), "DEL first, while the number still names the file");
        net.closeNow(p[1]);
        assertEquals(5, net.send(p[0], 5, (byte) 'x'));
        assertEquals(0, ep.wait(50), "no event, although a copy of the socket is open and readable");
    }
}
