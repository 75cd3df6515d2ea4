package org.epollproxy.stats;

import java.util.ArrayList;
import java.util.List;
import org.epollproxy.forward.Connection;
import org.epollproxy.forward.ConnectionInfo;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.ForwardStats;
import org.epollproxy.forward.ForwardingLoop;
import org.epollproxy.forward.LoopCounters;
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
 * @param pipesInUse --splice: pipes held by connections with bytes waiting in them
 * @param pipesIdle --splice: empty pipes kept open for reuse
 * @param openConnections connections open on the loop
 * @param connections one entry per open connection for {@code /connections}; empty when not asked for
 *     ({@code /metrics} needs no object per connection)
 * @param draining the loop is draining: its listeners are closed, its open connections finishing
 */
public record LoopSnapshot(int loop, List<Forward> forwards, List<ForwardStats> stats, LoopStats loopStats, LoopCounters counters,
        long buffersInUse, long bufferBytes, int pipesInUse, int pipesIdle, int openConnections, List<ConnectionInfo> connections, boolean draining) {

    /** Copies {@code fl}'s state with every open connection listed; call on its loop's thread only. */
    public static LoopSnapshot take(ForwardingLoop fl) {
        return take(fl, true);
    }

    /** Copies {@code fl}'s state, listing each open connection only if {@code withConnections}; loop thread only. */
    public static LoopSnapshot take(ForwardingLoop fl, boolean withConnections) {
        EventLoop loop = fl.loop();
        List<ForwardStats> live = fl.forwardStats();
        List<ForwardStats> stats = new ArrayList<>();
        for (ForwardStats l : live) stats.add(l.copy());
        List<ConnectionInfo> connections = withConnections ? new ArrayList<>() : List.of();
        for (int i = 0; i < fl.openConnections(); i++) {
            Connection c = fl.connectionAt(i);
            int f = indexOf(live, c.stats()); // -1: its listener was removed by a reload
            if (f >= 0) c.addOpenBytes(stats.get(f));
            if (withConnections) connections.add(c.info(loop));
        }
        return new LoopSnapshot(loop.id(), fl.forwards(), stats, loop.stats().copy(), fl.counters().copy(),
                fl.pool().inUse(), fl.pool().allocatedBytes(), fl.pipes().inUse(), fl.pipes().idle(), fl.openConnections(), connections, fl.draining());
    }

    private static int indexOf(List<ForwardStats> list, ForwardStats s) {
        for (int i = 0; i < list.size(); i++) if (list.get(i) == s) return i;
        return -1;
    }
}
