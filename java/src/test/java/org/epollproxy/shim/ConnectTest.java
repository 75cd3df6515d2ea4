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

    /**
     * A send while the connect is under way waits for it (tcp_sendmsg): -EAGAIN on a non-blocking socket,
     * the connect's error once it failed. On loopback the handshake (or the refusal) is over by the time
     * connect() returns -EINPROGRESS, so a send right after it already goes through (or fails); a machine
     * so loaded that the loopback softirq runs later gives -EAGAIN first, and the same answer after OUT.
     */
    @Test
    void onLoopbackASendRightAfterConnectGoesThroughAndARefusalAnswersTheSend() {
        NativeBuffer buf = NativeBuffer.allocate(16);
        int l = net.listener();
        int c = net.tcpSocket();
        assertEquals(-Errno.EINPROGRESS, net.k.connect(c, net.addr.address()));
        assertEquals(3, sendOnceConnected(c, buf, 1), "connected: the bytes went");
        net.closeNow(l); // nothing listens on that port any more
        int r = net.tcpSocket();
        int rc = net.k.connect(r, net.addr.address());
        if (rc == -Errno.ECONNREFUSED) return; // refused within the call itself: the same lesson, told by connect
        assertEquals(-Errno.EINPROGRESS, rc);
        assertEquals(-Errno.ECONNREFUSED, sendOnceConnected(r, buf, 2), "the refusal, told by the send");
    }

    /** send(3 bytes) right away; if the connect is still under way (-EAGAIN), again once epoll reports its end. */
    private int sendOnceConnected(int fd, NativeBuffer buf, long token) {
        int n = net.k.send(fd, buf.address(), 3);
        if (n != -Errno.EAGAIN) return n;
        assertEquals(0, ep.add(fd, EPOLLOUT, token));
        assertEquals(1, ep.wait(5000), "the connect ended");
        assertEquals(0, ep.delete(fd)); // the next call's wait is for its own socket only
        return net.k.send(fd, buf.address(), 3);
    }
}
