package org.epollproxy.sim;

import static org.epollproxy.shim.Epoll.EPOLLERR;
import static org.epollproxy.shim.Epoll.EPOLLHUP;
import static org.epollproxy.shim.Epoll.EPOLLIN;
import static org.epollproxy.shim.Epoll.EPOLLOUT;
import static org.epollproxy.shim.Epoll.EPOLLRDHUP;

import org.epollproxy.shim.Errno;

/**
 * One end of a simulated TCP connection, with Linux's observable semantics:
 * <ul>
 *   <li>bytes written go into the peer's receive queue, up to its (small, seeded) capacity: a full
 *       queue is a partial send or -EAGAIN for the writer;
 *   <li>recv returns queued bytes first, then a pending error once, then 0 (EOF) after a FIN or RST;
 *   <li>shutdown(SHUT_WR) queues a FIN behind the bytes already sent;
 *   <li>close sends an RST instead of a FIN when SO_LINGER is {1, 0} or unread bytes remain, and a
 *       later write from the peer is answered with an RST;
 *   <li>readiness follows tcp_poll: HUP once both directions are shut or the connection is reset
 *       (and for a never-connected socket), ERR while an error is pending, OUT after SHUT_WR.
 * </ul>
 */
final class End {
    static final int NEW = 0;
    static final int CONNECTING = 1;
    static final int CONNECTED = 2;
    /** The connect failed: closed with an error (refused). */
    static final int FAILED = 3;

    final World w;
    String name;
    final int rxCap;
    final ByteQueue rx = new ByteQueue();
    End peer;
    int state = NEW;
    /** Bytes that arrived in rx (in-flight bytes dropped by an RST are taken off again). */
    long rxArrived;
    /** Bytes read out of rx. */
    long rxTaken;
    /** Bytes this end's send() accepted (delivered, or discarded because the peer had closed). */
    long txAccepted;
    /** The address bound to (listening sockets) or connected to (backend sockets). */
    org.epollproxy.shim.SockAddr address;
    /** The peer's FIN arrived (graceful end of the incoming stream). */
    boolean finArrived;
    /** An RST arrived or the connect failed: the connection is gone (TCP_CLOSE). */
    boolean dead;
    /** Pending socket error (positive errno), reported once by recv/send/SO_ERROR. */
    int soError;
    /** This end sent its FIN. */
    boolean wrShut;
    int shutdowns;
    boolean closed;
    boolean lingerZero;
    int eofReads;
    /** An RST is on its way back to us (we wrote to a closed peer). */
    private boolean rstPending;

    // Proxy-side bookkeeping, for the invariants.
    SimPair pair;
    /** For a backend socket: the proxy treats it as connected (connect 0, SO_ERROR 0, or it sent on it). */
    boolean connectConfirmed;
    /** For a backend socket: how the target answers this attempt (SimKernel.Target.UP/DOWN/BLACKHOLE), -1 before connect. */
    int outcome = -1;
    /** For a backend socket: when connect() was called. */
    long connectCalledAt;
    /** For a backend socket: the proxy sent at least one byte or its FIN on it. */
    boolean used;

    End(World w, String name, int rxCap) {
        this.w = w;
        this.name = name;
        this.rxCap = rxCap;
    }

    static void link(End a, End b) {
        a.peer = b;
        b.peer = a;
        a.state = CONNECTED;
        b.state = CONNECTED;
    }

    int rxSpace() {
        return rxCap - rx.size();
    }

    /** recv: bytes, then a pending error once, then 0 at EOF; -EAGAIN when nothing is there yet. */
    int read(byte[] dst, int len) {
        if (state == NEW || state == CONNECTING) return -Errno.ENOTCONN;
        if (!rx.isEmpty()) {
            int n = rx.take(dst, 0, len);
            rxTaken += n;
            w.progress++;
            return n;
        }
        if (soError != 0) return takeError();
        if (finArrived || dead) {
            if (eofReads++ == 0) w.progress++;
            return 0;
        }
        return -Errno.EAGAIN;
    }

    /** send: bytes accepted (maybe fewer than len), -EAGAIN when the peer's queue is full, -EPIPE after shutdown or reset. */
    int write(byte[] src, int off, int len) {
        if (soError != 0) return takeError();
        if (dead || wrShut) return -Errno.EPIPE;
        if (state != CONNECTED) return state == CONNECTING ? -Errno.EAGAIN : -Errno.ENOTCONN;
        if (peer.closed) {
            // The peer's socket is gone: our kernel takes the bytes, the peer's answers with an RST.
            if (!rstPending) {
                rstPending = true;
                w.after(w.between(0, 2) * World.MS, "rst to " + name + " (wrote to a closed socket)", () -> reset(false));
            }
            w.progress++;
            txAccepted += len;
            return len;
        }
        int n = Math.min(len, peer.rxSpace());
        if (n == 0) return -Errno.EAGAIN;
        peer.rx.add(src, off, n);
        peer.rxArrived += n;
        txAccepted += n;
        w.progress++;
        return n;
    }

    /** shutdown(SHUT_WR): the FIN follows the bytes already queued at the peer. */
    int shutdownWrite() {
        if (state != CONNECTED || dead) return -Errno.ENOTCONN;
        shutdowns++;
        if (wrShut) return 0;
        wrShut = true;
        w.progress++;
        if (!peer.closed) peer.finArrived = true;
        return 0;
    }

    int takeError() {
        int e = soError;
        soError = 0;
        w.progress++;
        return -e;
    }

    /** close(2): FIN, or RST with SO_LINGER {1,0} or unread bytes. */
    void close() {
        if (closed) return;
        closed = true;
        w.progress++;
        if (state != CONNECTED || dead || peer.closed) return;
        if (lingerZero || !rx.isEmpty()) {
            peer.reset(lingerZero);
        } else if (!wrShut) {
            wrShut = true;
            peer.finArrived = true;
        }
    }

    /** An RST arrives. With {@code dropInFlight}, a random tail of what the peer sent had not arrived yet. */
    void reset(boolean dropInFlight) {
        if (closed || dead) return;
        if (dropInFlight && !rx.isEmpty() && w.rnd.nextBoolean()) {
            int drop = 1 + w.rnd.nextInt(rx.size());
            rx.dropTail(drop);
            rxArrived -= drop;
        }
        soError = Errno.ECONNRESET;
        dead = true;
        w.progress++;
    }

    /** A connect attempt was refused. */
    void refuse() {
        state = FAILED;
        dead = true;
        soError = Errno.ECONNREFUSED;
        w.progress++;
    }

    /** The ready mask as tcp_poll computes it. */
    int events() {
        switch (state) {
            case NEW:
                return EPOLLOUT | EPOLLHUP;
            case CONNECTING:
                return 0;
            case FAILED:
                return EPOLLIN | EPOLLOUT | EPOLLHUP | EPOLLRDHUP | (soError != 0 ? EPOLLERR : 0);
            default:
                int m = 0;
                if (!rx.isEmpty() || finArrived || dead) m |= EPOLLIN;
                if (finArrived || dead) m |= EPOLLRDHUP;
                if (wrShut || dead || peer.closed || peer.rxSpace() > 0) m |= EPOLLOUT;
                if (dead || (wrShut && finArrived)) m |= EPOLLHUP;
                if (soError != 0) m |= EPOLLERR;
                return m;
        }
    }

    @Override
    public String toString() {
        return name + "{state=" + state + " rx=" + rx.size() + "/" + rxCap + " arrived=" + rxArrived + " taken=" + rxTaken
                + (finArrived ? " fin-in" : "") + (wrShut ? " fin-out" : "") + (dead ? " dead" : "")
                + (soError != 0 ? " err=" + Errno.name(soError) : "") + (closed ? " closed" : "") + "}";
    }
}
