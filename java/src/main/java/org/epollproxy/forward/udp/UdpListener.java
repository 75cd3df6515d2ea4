package org.epollproxy.forward.udp;

import static org.epollproxy.shim.Epoll.EPOLLIN;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.epollproxy.forward.ConnectionRecord;
import org.epollproxy.forward.EndReason;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.ForwardStats;
import org.epollproxy.forward.ForwardingLoop;
import org.epollproxy.forward.ListenerBase;
import org.epollproxy.loop.ThrottledLine;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.SockAddr;

/**
 * The listening UDP socket of one forward on one loop, and its sessions: one {@link UdpSession} (with its
 * own backend socket) per client address, in least-recently-used order so that at the session cap the
 * oldest is evicted. Datagrams travel whole (up to 65,507 bytes) or are dropped and counted, never cut.
 * Ended sessions keep their socket in a quarantine of at most --udp-max-sessions (see {@link UdpSession}).
 */
public final class UdpListener extends ListenerBase {
    static final int DATAGRAMS_PER_WAKEUP = 64;

    /** Access order: get() moves a session to the end, so the first entry is the least recently used. */
    private final Map<SockAddr, UdpSession> sessions = new LinkedHashMap<>(64, 0.75f, true);
    /** Ended sessions whose socket is still open, oldest first. */
    private final ArrayDeque<UdpSession> quarantine = new ArrayDeque<>();
    private boolean closed;
    private long lastDenyLog;
    private long lastNoPortLog;
    /**
     * New sessions that could not be opened (socket, connect or epoll_ctl failed) since the first such
     * failure was logged; -1 when the last attempt succeeded. One line starts the episode and one ends it:
     * a line per failure was a line per datagram, 100,000 a second from a flood of new source addresses
     * while fds ran out.
     */
    private long openFailures = -1;
    /**
     * Sessions evicted at the cap are logged one a second, the next such line saying how many were not: under
     * a flood of new source addresses every datagram evicts a session, and a line each was a line per datagram.
     * The metric counts every one.
     */
    private final ThrottledLine evictionLines = new ThrottledLine(1_000_000_000L);

    public UdpListener(ForwardingLoop fl, Forward forward, int fd) {
        super(fl, forward, fd);
    }

    @Override
    public void start() {
        loop.setInterest(token, EPOLLIN);
    }

    @Override
    public int sessions() {
        return sessions.size();
    }

    @Override
    public void onEvent(int events) {
        long buf = fl.datagramBuffer();
        for (int i = 0; i < DATAGRAMS_PER_WAKEUP && !closed; i++) {
            int n = k.recvfrom(fd, buf, fl.datagramCapacity(), fl.scratch().address());
            if (n == -Errno.EAGAIN) return;
            if (n < 0) {
                fl.log().error("recvfrom on udp " + forward().bind() + ": " + Errno.describe(n));
                return;
            }
            stats().datagramsIn++;
            if (n > fl.datagramCapacity()) { // MSG_TRUNC told us the real size: never forward a cut datagram
                stats().datagramsDropped++;
                stats().datagramsTruncated++;
                continue;
            }
            SockAddr client = SockAddr.read(fl.scratch().buffer(), 0);
            UdpSession s = sessions.get(client);
            if (s == null) {
                s = newSession(client);
                if (s == null) continue;
            }
            s.toBackend(buf, n);
        }
    }

    private UdpSession newSession(SockAddr client) {
        String verdict = forward().access().check(client);
        if (verdict != null) {
            stats().denied++;
            stats().datagramsDropped++;
            long now = loop.now();
            if (now - lastDenyLog > 1_000_000_000L) { // a denied sender may send a flood: log at most once a second
                lastDenyLog = now;
                fl.connectionEnded(new ConnectionRecord(forward(), client, null, 0, 0, 0,
                        verdict.equals("denied") ? EndReason.DENIED : EndReason.NOT_ALLOWED, 0));
            }
            return null;
        }
        if (sessions.size() >= fl.settings().udpMaxSessions()) {
            Iterator<UdpSession> oldest = sessions.values().iterator();
            UdpSession victim = oldest.next();
            stats().sessionsEvicted++;
            victim.end(EndReason.EVICTED, 0);
        }
        UdpSession s = UdpSession.open(this, forward(), client);
        if (s == null) {
            stats().datagramsDropped++;
            return null;
        }
        if (openFailures >= 0) {
            fl.log().error("udp listen=" + forward().bind() + ": sessions open again; " + openFailures
                    + " more new session(s) failed meanwhile, their datagrams dropped");
            openFailures = -1;
        }
        sessions.put(client, s);
        stats().accepted++;
        stats().active++;
        return s;
    }

    /** Sends a backend's reply to {@code client} from the listening socket; false if dropped. */
    boolean reply(long buf, int len, SockAddr client) {
        int n = k.sendto(fd, buf, len, fl.addressBuffer(client));
        if (n < 0) {
            stats().datagramsDropped++;
            return false;
        }
        stats().datagramsOut++;
        return true;
    }

    /** A new session for {@code client} could not be opened ({@code why}): logged once per episode. */
    void openFailed(SockAddr client, String why) {
        if (openFailures >= 0) {
            openFailures++;
            return;
        }
        openFailures = 0;
        fl.log().error("udp client=" + client + " listen=" + forward().bind() + ": " + why
                + "; datagrams of new clients are dropped until a session opens again");
    }

    /** Every port a new session could get was still in quarantine: its datagram is dropped (counted by the caller). */
    void noPort(SockAddr client) {
        long now = loop.now();
        if (now - lastNoPortLog > 1_000_000_000L) {
            lastNoPortLog = now;
            fl.log().error("udp client=" + client + " listen=" + forward().bind() + ": every port offered was still in "
                    + "quarantine (sessions end faster than ports can be reused safely); datagram dropped");
        }
    }

    /** The epoll mask of the listening socket (the client side of every session). */
    int interest() {
        return socketClosed ? 0 : loop.interest(token);
    }

    /** {@code s} ended: unlisted, counted, logged; its socket goes to quarantine (or closes at shutdown). */
    void sessionEnded(UdpSession s, EndReason reason, int errno) {
        sessions.remove(s.client, s);
        ForwardStats st = stats();
        st.active--;
        st.bytesUp += s.up;
        st.bytesDown += s.down;
        st.ended(reason);
        fl.closed(s, new ConnectionRecord(s.forward, s.client, s.forward.backends().get(0), s.up, s.down,
                s.millis(), reason, errno), reason != EndReason.EVICTED || logThisEviction());
        if (reason == EndReason.SHUTDOWN) {
            s.release();
        } else {
            quarantine.addLast(s);
            st.quarantined++;
            if (quarantine.size() > fl.settings().udpMaxSessions()) releaseQuarantined(quarantine.peekFirst());
        }
        if (closed && sessions.isEmpty()) closeSocket(); // a removed forward's socket outlived its last session
    }

    private boolean logThisEviction() {
        long unlogged = evictionLines.admit(loop.now());
        if (unlogged < 0) return false;
        if (unlogged > 0 && fl.settings().logConnections()) {
            fl.log().error("udp listen=" + forward().bind() + ": " + unlogged + " more session(s) evicted at "
                    + "--udp-max-sessions since the last such line, not logged one by one (one a second)");
        }
        return true;
    }

    /** Ends {@code s}'s quarantine: its socket closes (its port stays held in the loop's PortQuarantine). */
    void releaseQuarantined(UdpSession s) {
        if (quarantine.remove(s)) stats().quarantined--;
        s.release();
    }

    /** Stops listening; sessions live on until their timeout (replies still need the listening socket). */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        loop.setInterest(token, 0);
        if (sessions.isEmpty()) closeSocket();
    }

    private boolean socketClosed;

    private void closeSocket() {
        if (socketClosed) return;
        socketClosed = true;
        loop.release(token, true); // DEL first: another process may share this socket (takeover)
        k.close(fd);
    }

    /** Shutdown: end every session and close the socket now. */
    @Override
    public void closeAll() {
        close();
        while (!sessions.isEmpty()) sessions.values().iterator().next().end(EndReason.SHUTDOWN, 0);
        while (!quarantine.isEmpty()) releaseQuarantined(quarantine.peekFirst());
        closeSocket();
    }
}
