package org.epollproxy.forward;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Local UDP ports that a session used until recently, by port number, shared by every loop of the
 * process: a new session socket must not get one before its quarantine ends, or a late reply meant for
 * the ended session would reach the new session's client. The kernel picks ephemeral ports at random
 * and may hand a just-closed one straight back, to any loop; a UDP session asks again instead.
 * Times are the loops' clock ({@code EventLoop.now()}).
 */
public final class PortQuarantine {
    /** How long a port stays out of use after its session ended: far beyond any sane reply delay. */
    public static final long NANOS = 10_000_000_000L;
    private volatile AtomicLongArray until; // 512 KiB, allocated by the first UDP session

    /** {@code port}, whose session ended at {@code endedAt}, is not to be reused before endedAt + NANOS. */
    public void hold(int port, long endedAt) {
        table().accumulateAndGet(port, endedAt + NANOS, Math::max);
    }

    /** Whether {@code port} is still held at {@code now}. */
    public boolean held(int port, long now) {
        long u = table().get(port);
        return u != 0 && now - u < 0;
    }

    private AtomicLongArray table() {
        AtomicLongArray t = until;
        if (t == null) {
            synchronized (this) {
                if (until == null) until = new AtomicLongArray(65536);
                t = until;
            }
        }
        return t;
    }
}
