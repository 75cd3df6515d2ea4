package org.epollproxy.shim;

import static org.epollproxy.shim.Epoll.EPOLLERR;
import static org.epollproxy.shim.Epoll.EPOLLOUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Lesson 7: a non-blocking connect returns -EINPROGRESS at once; the socket becomes writable (EPOLLOUT)
 * when the handshake ends, and SO_ERROR then says how: 0 connected, or the error (ECONNREFUSED,
 * with EPOLLERR). Reading SO_ERROR clears it. A forwarder never blocks a loop on a slow backend this way.
 */
class ConnectTest extends EpollLesson {
    @Test
    void inProgressThenOutThenSoErrorZero() {
        int l = net.listener();
        int c = net.tcpSocket();
        int rc = net.k.connect(c, net.addr.address());
        assertTrue(rc == -Errno.EINPROGRESS || rc == 0, Errno.name(rc));
        assertEquals(0, ep.add(c, EPOLLOUT, 1));
        assertEquals(1, ep.wait(1000));
        assertEquals(EPOLLOUT, ep.events(0));
        assertEquals(0, net.k.sock_error(c));
        NativeBuffer peer = NativeBuffer.allocate(SockAddr.SIZE);
        int s = net.track(net.k.accept(l, peer.address()));
        assertNotEquals(-1, s);
        assertEquals("127.0.0.1", SockAddr.read(peer.buffer(), 0).hostText());
        assertEquals(0, net.k.getpeername(c, peer.address()));
        assertEquals(SockAddr.read(net.addr.buffer(), 0), SockAddr.read(peer.buffer(), 0));
    }

    @Test
    void aClosedPortRefusesWithErrAndEconnrefused() {
        int l = net.listener();
        net.closeNow(l); // nothing listens on that port any more
        int c = net.tcpSocket();
        int rc = net.k.connect(c, net.addr.address());
        if (rc == -Errno.ECONNREFUSED) return; // loopback may refuse synchronously; same lesson
        assertEquals(-Errno.EINPROGRESS, rc);
        assertEquals(0, ep.add(c, EPOLLOUT, 1));
        assertEquals(1, ep.wait(1000));
        assertTrue((ep.events(0) & EPOLLERR) != 0, Epoll.describe(ep.events(0)));
        assertEquals(-Errno.ECONNREFUSED, net.k.sock_error(c));
        assertEquals(0, net.k.sock_error(c), "reading SO_ERROR cleared it");
    }
}
