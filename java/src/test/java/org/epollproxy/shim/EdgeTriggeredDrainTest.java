package org.epollproxy.shim;

import static org.epollproxy.shim.Epoll.EPOLLET;
import static org.epollproxy.shim.Epoll.EPOLLIN;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * Lesson 15: under EPOLLET, an fd must be considered ready until a read says EAGAIN. On a stream socket a
 * recv that returns fewer bytes than asked also proves it drained. On a datagram socket it proves nothing:
 * each recv returns one whole datagram, always "short", while more may wait, and without reading to EAGAIN
 * they wait for ever (no new edge comes for them).
 */
class EdgeTriggeredDrainTest extends EpollLesson {
    @Test
    void onAStreamAShortReadMeansDrained() {
        int[] p = net.pair();
        assertEquals(0, ep.add(p[1], EPOLLIN | EPOLLET, 1));
        assertEquals(100, net.send(p[0], 100, (byte) 'x'));
        assertEquals(1, ep.wait(1000));

        assertEquals(100, net.recv(p[1], 1000), "100 of the 1000 asked: the stream is empty");
        assertEquals(-Errno.EAGAIN, net.recv(p[1], 1000), "as one more recv confirms");
    }

    @Test
    void datagramsMustBeReadUntilEagain() {
        NativeBuffer to = NativeBuffer.allocate(SockAddr.SIZE);
        NativeBuffer from = NativeBuffer.allocate(SockAddr.SIZE);
        int rx = net.udpSocket(to);
        int tx = net.udpSocket(from);
        assertEquals(0, ep.add(rx, EPOLLIN | EPOLLET, 1));
        assertEquals(10, net.k.sendto(tx, net.buf.address(), 10, to.address()));
        assertEquals(20, net.k.sendto(tx, net.buf.address(), 20, to.address()));
        assertEquals(1, ep.wait(1000), "one edge for two datagrams (lesson 13)");

        assertEquals(10, net.k.recvfrom(rx, net.buf.address(), 1000, 0), "one datagram: short, yet not drained");
        assertEquals(0, ep.wait(50), "no new edge for the datagram still queued");
        assertEquals(20, net.k.recvfrom(rx, net.buf.address(), 1000, 0), "only reading on finds it");
        assertEquals(-Errno.EAGAIN, net.k.recvfrom(rx, net.buf.address(), 1000, 0), "EAGAIN: now it is drained");
    }
}
