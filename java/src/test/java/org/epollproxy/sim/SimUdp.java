package org.epollproxy.sim;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import org.epollproxy.shim.SockAddr;

/**
 * The simulated UDP network: sockets bound to addresses, datagrams delivered whole (or dropped: a full
 * receive queue, nobody bound at the address), in order per socket. The proxy's UDP sockets sit in
 * {@link SimKernel}'s fd table; the scripted peers' ({@link UdpPeers}) are reached by address only.
 */
final class SimUdp {
    static final class Datagram {
        final byte[] data;
        final SockAddr from;

        Datagram(byte[] data, SockAddr from) {
            this.data = data;
            this.from = from;
        }
    }

    /** A UDP socket: bound to {@code local}, connected to {@code peer} (or not), with a bounded queue. */
    static final class Sock {
        final boolean proxySide;
        final int rxCap;
        final ArrayDeque<Datagram> rx = new ArrayDeque<>();
        SockAddr local;
        SockAddr peer;
        boolean closed;
        /** A peer's socket: run when a datagram arrives. */
        Runnable onArrival;

        Sock(boolean proxySide, int rxCap) {
            this.proxySide = proxySide;
            this.rxCap = rxCap;
        }

        @Override
        public String toString() {
            return "udp{" + local + (peer != null ? " -> " + peer : "") + " rx=" + rx.size() + "/" + rxCap + (closed ? " closed" : "") + "}";
        }
    }

    private final World w;
    private final Map<SockAddr, Sock> bound = new HashMap<>();
    private int nextPort = 50000;
    long dropped;

    SimUdp(World w) {
        this.w = w;
    }

    void bind(Sock s, SockAddr a) {
        if (a.port() == 0) a = a.withPort(nextPort++);
        s.local = a;
        bound.put(a, s);
    }

    /** connect() on an unbound socket binds it to an ephemeral port first, as the kernel does. */
    void ensureBound(Sock s) {
        if (s.local == null) bind(s, SockAddr.parse("127.0.0.1", 0));
    }

    void deliver(SockAddr to, byte[] data, SockAddr from) {
        Sock d = bound.get(to);
        if (d == null || d.closed || d.rx.size() >= d.rxCap) {
            dropped++;
            return;
        }
        d.rx.add(new Datagram(data, from));
        w.progress++;
        if (d.onArrival != null) w.after(w.rnd.nextLong(2 * World.MS), "udp arrival at " + to, d.onArrival);
    }

    void close(Sock s) {
        s.closed = true;
        if (s.local != null && bound.get(s.local) == s) bound.remove(s.local);
        w.progress++;
    }
}
