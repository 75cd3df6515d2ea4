package org.epollproxy.forward.tcp;

import org.epollproxy.forward.Backend;
import org.epollproxy.forward.ConnectionInfo;
import org.epollproxy.loop.EventLoop;

/** What the live view ({@code /connections}) shows of one pair, read on its loop's thread. */
final class PairView {

    static ConnectionInfo info(Pair p, EventLoop l) {
        Backend b = p.currentBackend();
        String state = p.connector.connecting ? "connecting"
                : p.up.eof ? "client-sent-fin" : p.down.eof ? "backend-sent-fin" : "open";
        boolean up = p.up.splicing();
        boolean down = p.down.splicing();
        String path = up && down ? "splice" : !up && !down ? "copy" : "mixed";
        return new ConnectionInfo(l.id(), p.forward.bind().toString(), p.clientAddr.toString(),
                b == null ? "-" : b.toString(), state, l.now() - p.startNanos, p.up.bytesOut, p.down.bytesOut,
                p.up.pendingBytes(), p.down.pendingBytes(), interest(l, p.client), interest(l, p.backend), path, p.routed,
                p.client.tls == null ? null : p.client.tls.protocolText(), p.client.tls == null ? null : p.client.tls.peerSubject());
    }

    private static int interest(EventLoop l, Side s) {
        return s.fd < 0 ? 0 : l.interest(s.token);
    }

    private PairView() {}
}
