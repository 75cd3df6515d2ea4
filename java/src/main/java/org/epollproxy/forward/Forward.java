package org.epollproxy.forward;

import java.util.List;
import org.epollproxy.shim.SockAddr;

/**
 * One resolved TCP forward: where to listen and the backends to try, in order (the second is used
 * only when a connect to the first is refused or times out).
 */
public final class Forward {
    private final SockAddr bind;
    private final List<Backend> backends;
    private final ProxyProtocol sendProxy;

    public Forward(SockAddr bind, List<Backend> backends) {
        this(bind, backends, ProxyProtocol.OFF);
    }

    /** @param sendProxy the PROXY protocol header each backend connection starts with ({@code OFF}: none) */
    public Forward(SockAddr bind, List<Backend> backends, ProxyProtocol sendProxy) {
        if (backends.isEmpty()) throw new IllegalArgumentException("a forward needs at least one backend");
        this.bind = bind;
        this.backends = List.copyOf(backends);
        this.sendProxy = sendProxy;
    }

    public SockAddr bind() {
        return bind;
    }

    public List<Backend> backends() {
        return backends;
    }

    public ProxyProtocol sendProxy() {
        return sendProxy;
    }

    /** The same forward sending the PROXY protocol header {@code p} to its backends. */
    public Forward withSendProxy(ProxyProtocol p) {
        return new Forward(bind, backends, p);
    }

    /** The same forward listening on {@code actual} (the real port when 0 was asked for). */
    public Forward boundTo(SockAddr actual) {
        return new Forward(actual, backends, sendProxy);
    }

    /** "127.0.0.1:9000 -> 127.0.0.1:8000" (backends joined by ","). */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(bind.toString()).append(" -> ");
        for (int i = 0; i < backends.size(); i++) {
            if (i > 0) sb.append(',');
            sb.append(backends.get(i));
        }
        return sb.toString();
    }
}
