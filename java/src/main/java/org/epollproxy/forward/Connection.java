package org.epollproxy.forward;

import org.epollproxy.loop.EventLoop;
import org.epollproxy.loop.Timer;

/**
 * One open connection of a loop (a TCP pair today), as the loop's connection table holds it: enough to
 * list it, to add its running byte counts to its forward's totals, and to end it at shutdown. It is
 * its own timer (connect, idle and FIN deadlines).
 */
public abstract class Connection extends Timer {
    /** Index in {@link ForwardingLoop}'s table, for O(1) removal; -1 when not in it. */
    int tableIndex = -1;

    /** The counters of the listener that accepted it. */
    public abstract ForwardStats stats();

    /** Adds the bytes this connection moved so far (not yet in {@link #stats()}) to {@code into}. */
    public abstract void addOpenBytes(ForwardStats into);

    /** What the live view shows; on the loop's thread. */
    public abstract ConnectionInfo info(EventLoop loop);

    /**
     * Whether it counts toward --max-connections: TCP pairs do; UDP sessions do not (their own cap is
     * --udp-max-sessions, and a datagram cannot wait in a backlog the way a connection does).
     */
    public boolean countsTowardCap() {
        return true;
    }

    /** Shutdown of the proxy: end it now, resetting what is half-done. */
    public abstract void abortForShutdown();

    /**
     * {@code ctl disable --reset}: if this connection uses the backend whose live state is {@code state},
     * reset it (RST both sides) and return true. Connections without a backend state never match.
     */
    public boolean resetIfUsing(Object state) {
        return false;
    }
}
