package org.epollproxy.forward;

import java.util.ArrayList;
import java.util.List;
import org.epollproxy.loop.EventLoop;
import org.epollproxy.loop.LoopStats;

/**
 * A consistent copy of one loop's state for the stats endpoint: taken on the loop's own thread
 * ({@link #take}, posted with {@code EventLoop.execute}), so the forwarding path needs no lock and
 * the reader sees no half-updated pair.
 *
 * @param forwards the forwards this loop listens for, in listener order (a reload may change them)
 * @param stats their counters, in the same order; bytes include the open pairs' bytes so far, so the
 *     totals only ever grow
 * @param buffersInUse pool buffers held by connections now
 * @param bufferBytes native memory the buffer pool holds (in use and idle)
 */
public record LoopSnapshot(int loop, List<Forward> forwards, List<ForwardStats> stats, LoopStats loopStats, LoopCounters counters,
        long buffersInUse, long bufferBytes, List<ConnectionInfo> connections) {

    /** Copies {@code fw}'s state; call on its loop's thread only. */
    public static LoopSnapshot take(Forwarder fw) {
        EventLoop loop = fw.loop();
        List<ForwardStats> live = fw.forwardStats();
        List<ForwardStats> stats = new ArrayList<>();
        for (ForwardStats l : live) {
            ForwardStats copy = new ForwardStats();
            copy.add(l);
            stats.add(copy);
        }
        List<ConnectionInfo> connections = new ArrayList<>();
        for (int i = 0; i < fw.openPairs(); i++) {
            Pair p = fw.pairAt(i);
            int f = indexOf(live, p.listener.stats()); // -1: its listener was removed by a reload
            if (f >= 0) {
                ForwardStats st = stats.get(f);
                st.bytesUp += p.up.bytesOut;
                st.bytesDown += p.down.bytesOut;
                st.bytesSplicedUp += p.up.bytesSpliced;
                st.bytesSplicedDown += p.down.bytesSpliced;
            }
            connections.add(describe(loop, p));
        }
        return new LoopSnapshot(loop.id(), fw.forwards(), stats, copy(loop.stats()), copy(fw.counters()),
                fw.bufferPool().inUse(), fw.bufferPool().allocatedBytes(), connections);
    }

    private static int indexOf(List<ForwardStats> list, ForwardStats s) {
        for (int i = 0; i < list.size(); i++) if (list.get(i) == s) return i;
        return -1;
    }

    private static ConnectionInfo describe(EventLoop loop, Pair p) {
        Backend b = p.currentBackend();
        String state = p.connecting ? "connecting"
                : p.up.eof ? "client-sent-fin" : p.down.eof ? "backend-sent-fin" : "open";
        return new ConnectionInfo(loop.id(), p.forward.bind().toString(), p.clientAddr.toString(),
                b == null ? "-" : b.toString(), state, p.durationNanos(loop.now()),
                p.up.bytesOut, p.down.bytesOut, p.up.pendingBytes(), p.down.pendingBytes(),
                interest(loop, p.client), interest(loop, p.backend), path(p));
    }

    private static String path(Pair p) {
        boolean up = p.up.pipe != null;
        boolean down = p.down.pipe != null;
        return up && down ? "splice" : !up && !down ? "copy" : "mixed";
    }

    private static int interest(EventLoop loop, Side s) {
        return s.fd < 0 ? 0 : loop.interest(s.token);
    }

    private static LoopStats copy(LoopStats s) {
        LoopStats c = new LoopStats();
        c.waits = s.waits;
        c.events = s.events;
        c.staleEvents = s.staleEvents;
        c.ctlAdd = s.ctlAdd;
        c.ctlMod = s.ctlMod;
        c.ctlDel = s.ctlDel;
        c.wakeups = s.wakeups;
        c.timersFired = s.timersFired;
        c.handlerFailures = s.handlerFailures;
        return c;
    }

    private static LoopCounters copy(LoopCounters s) {
        LoopCounters c = new LoopCounters();
        c.eagainRecv = s.eagainRecv;
        c.eagainSend = s.eagainSend;
        c.partialSends = s.partialSends;
        return c;
    }
}
