package org.epollproxy.forward.tcp;

import static org.epollproxy.shim.Epoll.EPOLLIN;

import java.util.Arrays;
import org.epollproxy.forward.BufferPool;
import org.epollproxy.forward.ConnectionRecord;
import org.epollproxy.forward.EndReason;
import org.epollproxy.forward.ForwardingLoop;
import org.epollproxy.forward.proxyproto.HeaderParser;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.NativeMemory;
import org.epollproxy.shim.SockAddr;

/**
 * With accept-proxy, the phase of a new client before its pair (and before its first bytes are read to
 * choose a route, {@link PrereadReader}: the PROXY header always comes first): read the PROXY protocol header the load
 * balancer sends first, in as many pieces as it comes, within --accept-proxy-timeout and at most
 * {@link HeaderParser#MAX_HEADER} bytes. Then the client is the address the header announced (or the
 * connection's own for LOCAL / UNKNOWN) and {@link TcpListener#admit} goes on as for any client: access
 * rules, per-client limits, the pair. A malformed, truncated, oversized or late header closes the
 * connection (end=bad-proxy-header): nothing of it reaches a backend. No backend socket exists yet, so
 * a flood of silent clients costs one fd and this small object each, until the deadline.
 */
final class ProxyHeaderReader extends BeforePair {
    /** The bytes received so far; grows to at most MAX_HEADER (v2) or the v1 line's bound. */
    private byte[] got = new byte[16];
    private int have;

    private ProxyHeaderReader(TcpListener listener, int fd, SockAddr peer) {
        super(listener, fd, peer);
    }

    static void start(TcpListener listener, int fd, SockAddr peer) {
        ProxyHeaderReader r;
        try {
            r = new ProxyHeaderReader(listener, fd, peer);
        } catch (RuntimeException e) {
            listener.forwardingLoop().loop().kernel().close(fd); // not registered: nobody else closes it
            throw e;
        }
        ForwardingLoop fl = listener.forwardingLoop();
        fl.opened(r);
        if (fl.loop().setInterest(r.token, EPOLLIN) < 0) {
            r.end(EndReason.ERROR);
            return;
        }
        fl.loop().schedule(r, r.startNanos + fl.settings().proxyHeaderTimeoutMs() * 1_000_000L);
    }

    @Override
    public void onEvent(int events) {
        if (done) return;
        BufferPool pool = fl.pool();
        while (true) {
            int want = Math.min(HeaderParser.wanted(got, have), pool.bufferSize());
            if (have + want > got.length) got = Arrays.copyOf(got, Math.min(HeaderParser.MAX_HEADER, Math.max(have + want, 2 * got.length)));
            want = Math.min(want, got.length - have);
            if (want <= 0) { // cannot happen: the parser rejects a header before it outgrows MAX_HEADER
                end(EndReason.BAD_PROXY_HEADER, "longer than " + HeaderParser.MAX_HEADER + " bytes");
                return;
            }
            long b = pool.take();
            int n;
            try {
                n = loop.kernel().recv(fd, b, want);
                if (n > 0) NativeMemory.get(b, got, have, n);
            } finally {
                pool.give(b);
            }
            if (n == -Errno.EAGAIN) return;
            if (n < 0) {
                end(EndReason.CLIENT_RESET);
                return;
            }
            if (n == 0) { // FIN before a complete header
                end(EndReason.BAD_PROXY_HEADER, "the client closed after " + have + " bytes, before a complete header");
                return;
            }
            have += n;
            HeaderParser.Result r = HeaderParser.parse(got, have);
            if (r.error() != null) {
                end(EndReason.BAD_PROXY_HEADER, r.error());
                return;
            }
            if (r.header() != null) {
                handOver(r.header());
                return;
            }
        }
    }

    /** The header is complete: the client is who it says, and the normal path takes the fd over. */
    private void handOver(HeaderParser.Header h) {
        leave();
        byte[] early = Arrays.copyOfRange(got, h.length(), have); // client bytes that came with a v1 line
        listener.admit(fd, h.source() != null ? h.source() : client, h.destination(), early);
    }

    @Override
    protected void onTimer(long now) {
        if (!done) {
            end(EndReason.BAD_PROXY_HEADER, "no complete header within " + fl.settings().proxyHeaderTimeoutMs() + " ms ("
                    + have + " bytes came)");
        }
    }

    @Override
    public void onFailure(RuntimeException e) {
        end(EndReason.ERROR);
    }

    private void end(EndReason reason) {
        end(reason, null);
    }

    /** @param why for end=bad-proxy-header: what was wrong with the header, for the log line */
    private void end(EndReason reason, String why) {
        if (closeClient(reason)) fl.closed(this, new ConnectionRecord(forward, client, null, 0, 0, ageMs(), reason, 0, why));
    }

    @Override
    String phase() {
        return "proxy-header"; // no byte moves on until the header is whole
    }

    @Override
    int held() {
        return have;
    }

    @Override
    public void abortForShutdown() {
        end(EndReason.SHUTDOWN);
    }
}
