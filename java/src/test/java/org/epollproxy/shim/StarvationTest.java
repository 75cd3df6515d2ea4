package org.epollproxy.shim;

import static org.epollproxy.shim.Epoll.EPOLLET;
import static org.epollproxy.shim.Epoll.EPOLLIN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Lesson 16: the starvation pitfall. Edge-triggered mode obliges a reader to drain each fd to EAGAIN
 * (lesson 15), but a busy fd whose peer keeps sending never reaches EAGAIN, and the other fds of the batch
 * wait behind it. The cure the man page gives is a ready list: remember which fds are ready, read a bounded
 * amount from each in turn, and keep an fd on the list until it says EAGAIN, because epoll will not report
 * it again (no new edge). epoll-proxy is level-triggered, where the kernel keeps that list, and bounds each
 * handler instead: {@code Pair.READS_PER_EVENT} reads, {@code TcpListener.ACCEPTS_PER_WAKEUP} accepts.
 */
class StarvationTest extends EpollLesson {
    private static final int READ = 4096;
    /** Turns either loop gets: enough to see who is served, bounded whatever happens. */
    private static final int TURNS = 200;

    /** A busy connection (its receive queue full, its peer sending on) and a quiet one with one byte. */
    private int[] busy;
    private int[] quiet;

    private void twoReadyConnections() {
        busy = net.pair();
        quiet = net.pair();
        assertEquals(0, ep.add(busy[1], EPOLLIN | EPOLLET, busy[1]));
        assertEquals(0, ep.add(quiet[1], EPOLLIN | EPOLLET, quiet[1]));
        while (net.send(busy[0], READ, (byte) 'b') > 0) {} // until the send buffer is full too: EAGAIN
        assertEquals(1, net.send(quiet[0], 1, (byte) 'q'));
    }

    /** The busy peer sends as much again as the loop just read, as a bulk sender does. */
    private void peerKeepsSending(int fd, int n) {
        if (fd == busy[1] && n > 0) net.send(busy[0], n, (byte) 'b');
    }

    @Test
    void drainingOneBusyFdToEagainStarvesTheOthers() {
        twoReadyConnections();
        int n = ep.wait(1000);
        assertEquals(2, n, "both connections are ready in one batch");
        assertEquals(busy[1], (int) ep.token(0), "the busy one first: it became ready first");

        // The naive handler: for each event, read until EAGAIN (capped here, or the test would never end).
        int busyReads = 0;
        for (int r; busyReads < TURNS && (r = net.recv(busy[1], READ)) > 0; busyReads++) peerKeepsSending(busy[1], r);
        assertEquals(TURNS, busyReads, "the busy fd never said EAGAIN: its peer refills it as fast as we read");
        assertEquals(1, net.recv(quiet[1], READ), "and the quiet connection's byte has waited, unread, all that time");
    }

    @Test
    void aReadyListWithABoundedReadServesEveryFdInTurn() {
        twoReadyConnections();
        ArrayDeque<Integer> ready = new ArrayDeque<>();
        List<Integer> served = new ArrayList<>();
        int quietTurn = -1;
        int lastBusyRead = 0;
        for (int turn = 0; turn < TURNS; turn++) {
            int n = ep.wait(ready.isEmpty() ? 1000 : 0); // block only when nothing is known to be ready
            for (int i = 0; i < n; i++) {
                int fd = (int) ep.token(i);
                if (!ready.contains(fd)) ready.add(fd); // an fd already listed is not listed twice
            }
            if (ready.isEmpty()) break;
            int fd = ready.poll();
            int r = net.recv(fd, READ); // one bounded read per turn
            served.add(fd);
            if (fd == quiet[1] && quietTurn < 0) quietTurn = turn;
            if (fd == busy[1]) lastBusyRead = r;
            // Until it says EAGAIN there may be more, and epoll will not say so again (no new edge): the list must.
            // (A short read is no proof on a stream whose peer is still sending: on a busy machine loopback
            // delivers the refill a little later, and a fd dropped then would wait for the next edge.)
            if (r > 0) ready.add(fd);
            peerKeepsSending(fd, r);
            if (turn == 0) assertEquals(0, ep.wait(0), "after one bounded read the busy fd is not reported again");
        }
        assertTrue(quietTurn >= 0 && quietTurn <= 1, "the quiet connection is served at its turn: " + quietTurn);
        assertEquals(TURNS, served.size(), "every turn served one read: the busy fd goes on being served after it");
        assertTrue(ready.contains(busy[1]) || lastBusyRead == -Errno.EAGAIN,
                "kept on the ready list unless its last read said EAGAIN: " + lastBusyRead);
    }
}
