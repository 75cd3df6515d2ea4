package org.epollproxy.forward.udp;

import static org.epollproxy.shim.Epoll.EPOLLIN;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.epollproxy.forward.ConnectionRecord;
import org.epollproxy.forward.EndReason;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.ForwardingLoop;
import org.epollproxy.forward.ListenerBase;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.SockAddr;

/**
 * The listening UDP socket of one forward on one loop, and its sessions: one {@link UdpSession} (with its
 * own backend socket) per client address, in least-recently-used order so that at the session cap the
 * oldest is evicted. Datagrams travel whole (up to 65,507 bytes) or are dropped and counted, never cut.
 */
public final class UdpListener extends ListenerBase {
    static final int DATAGRAMS_PER_WAKEUP = 64;

    /** Access order: get() moves a session to the end, so the first entry is the least recently used. */
    private final Map<SockAddr, UdpSession> sessions = new LinkedHashMap<>(64, 0.75f, true);
    private boolean closed;
    private long lastDenyLog;

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
            int n = k.recvfrom(fd, buf, ForwardingLoop.DATAGRAM_MAX, fl.scratch().address());
            if (n == -Errno.EAGAIN) return;
            if (n < 0) {
                fl.log().error("recvfrom on udp " + forward().bind() + ": " + Errno.describe(n));
                return;
            }
            stats().datagramsIn++;
            if (n > ForwardingLoop.DATAGRAM_MAX) { // MSG_TRUNC told us the real size: never forward a cut datagram
                stats().datagramsDropped++;
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
            victim.close(EndReason.EVICTED);
        }
        UdpSession s = UdpSession.open(this, forward(), client);
        if (s == null) {
            stats().datagramsDropped++;
            return null;
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

    void sessionClosed(UdpSession s, EndReason reason) {
        sessions.remove(s.client);
        stats().active--;
        stats().bytesUp += s.up;
        stats().bytesDown += s.down;
        fl.connectionEnded(new ConnectionRecord(s.forward, s.client, s.forward.backends().get(0), s.up, s.down,
                s.millis(), reason, 0));
        if (closed && sessions.isEmpty()) closeSocket(); // a removed forward's socket outlived its last session
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
        while (!sessions.isEmpty()) sessions.values().iterator().next().close(EndReason.SHUTDOWN);
        closeSocket();
    }
}
