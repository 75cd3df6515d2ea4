package org.epollproxy.forward.tcp;

import org.epollproxy.loop.Handler;

/** One socket of a pair (the client's or the backend's) as the event loop sees it. */
final class Side implements Handler {
    final Pair pair;
    final boolean isClient;
    int fd = -1;
    long token;
    /** Bytes read from this socket (toward the other side). */
    Direction in;
    /** Bytes to write to this socket (from the other side). */
    Direction out;
    /** TLS on this socket (a terminating listener's client); null: plain bytes. */
    org.epollproxy.forward.tls.TlsChannel tls;

    Side(Pair pair, boolean isClient) {
        this.pair = pair;
        this.isClient = isClient;
    }

    @Override
    public void onEvent(int events) {
        pair.onEvent(this, events);
    }

    @Override
    public void onFailure(RuntimeException e) {
        PairEnd.fail(pair, e);
    }

    String name() {
        return isClient ? "client" : "backend";
    }
}
