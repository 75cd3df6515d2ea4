package org.epollproxy.forward.tcp;

import org.epollproxy.forward.Backend;
import org.epollproxy.forward.ConnectionInfo;
import org.epollproxy.forward.ForwardingLoop;
import org.epollproxy.loop.EventLoop;
import org.epollproxy.shim.Epoll;
import org.epollproxy.shim.SockAddr;

/** What the live view ({@code /connections}) shows of one pair, read on its loop's thread. */
final class PairView {

    static ConnectionInfo info(Pair p, EventLoop l) {
        Backend b = p.currentBackend();
        String state = p.connector.connecting ? "connecting"
                : p.up.eof ? "client-sent-fin" : p.down.eof ? "backend-sent-fin" : "open";
        boolean up = p.up.splicing();
        boolean down = p.down.splicing();
        String path = up && down ? "splice" : !up && !down ? "copy" : "mixed";
        long now = l.now();
        return new ConnectionInfo(l.id(), p.forward.bind().toString(), p.clientAddr.toString(),
                b == null ? "-" : b.toString(), local(p), state, now - p.startNanos, now - p.lastActivity,
                p.up.bytesOut, p.down.bytesOut, p.up.pendingBytes(), p.down.pendingBytes(),
                interest(l, p.client), interest(l, p.backend), path, p.routed,
                p.client.tls == null ? null : p.client.tls.protocolText(), p.client.tls == null ? null : p.client.tls.peerSubject());
    }

    /**
     * The proxy's end of the backend connection: what the backend logs as its client. Asked of the kernel
     * only when listed, and kept once connected (the socket no longer changes; while connecting, a retry
     * may open another one).
     */
    private static String local(Pair p) {
        if (p.backendLocal != null) return p.backendLocal;
        if (p.backend.fd < 0) return "-";
        ForwardingLoop fl = p.listener.forwardingLoop();
        if (p.kernel().getsockname(p.backend.fd, fl.scratch().address()) != 0) return "-";
        String text = SockAddr.read(fl.scratch().buffer(), 0).toString();
        if (!p.connector.connecting) p.backendLocal = text;
        return text;
    }

    /**
     * What the proxy waits for on the socket: its interest mask, and OUT while the kernel holds a send to it
     * (io_uring): the same wait for the peer to take bytes that epoll shows as OUT.
     */
    private static int interest(EventLoop l, Side s) {
        if (s.fd < 0) return 0;
        return l.interest(s.token) | (s.out.sending() ? Epoll.EPOLLOUT : 0);
    }

    private PairView() {}
}
