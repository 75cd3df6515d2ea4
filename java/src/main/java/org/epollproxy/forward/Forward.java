package org.epollproxy.forward;

import java.util.List;
import java.util.Objects;
import org.epollproxy.shim.SockAddr;

/**
 * One resolved forward: the protocol, where to listen, the backends and how a client is given one of them
 * ({@link Balancing}: by default the first that is up, the next after a refused or timed-out connect), who
 * may connect, and where it came from.
 */
public final class Forward {
    /** TCP streams or UDP datagrams (one backend socket per client address). */
    public enum Proto {
        TCP,
        UDP;

        public String lower() {
            return this == TCP ? "tcp" : "udp";
        }
    }

    private final Proto proto;
    private final SockAddr bind;
    private final List<Backend> backends;
    private final AccessRules access;
    private final int udpTimeoutSec;
    private final SockAddr source;
    private final String origin;
    private final ProxyProtocol sendProxy;
    private final Balancing balancing;

    /** A forward has at most this many backends (the connect phase keeps the ones tried in a 64-bit mask). */
    public static final int MAX_BACKENDS = 64;
    private final boolean acceptProxy;
    /** With acceptProxy: the peers allowed to send the header (as allow patterns; empty: every peer). */
    private final AccessRules proxyFrom;

    private static final java.util.concurrent.atomic.AtomicInteger UNNAMED = new java.util.concurrent.atomic.AtomicInteger();

    /** A TCP forward open to everyone (tests, benchmarks), with an origin of its own. */
    public Forward(SockAddr bind, List<Backend> backends) {
        this(Proto.TCP, bind, backends, AccessRules.ALLOW_ALL, -1, null, "forward #" + UNNAMED.incrementAndGet());
    }

    /**
     * @param udpTimeoutSec idle timeout of a UDP session, or -1 for the global default
     * @param source local address to bind the backend socket to (rinetd's {@code src=}), or null
     * @param origin where the forward was defined, for messages: {@code -L 9000:h:80} or {@code file:12}
     */
    public Forward(Proto proto, SockAddr bind, List<Backend> backends, AccessRules access, int udpTimeoutSec,
            SockAddr source, String origin) {
        this(proto, bind, backends, access, udpTimeoutSec, source, origin, ProxyProtocol.OFF);
    }

    /** @param sendProxy the PROXY protocol header each backend connection starts with ({@code OFF}: none) */
    public Forward(Proto proto, SockAddr bind, List<Backend> backends, AccessRules access, int udpTimeoutSec,
            SockAddr source, String origin, ProxyProtocol sendProxy) {
        this(proto, bind, backends, access, udpTimeoutSec, source, origin, sendProxy, Balancing.DEFAULT, false);
    }

    /** @param acceptProxy each client must start with a PROXY protocol header (v1 or v2) naming the real client */
    public Forward(Proto proto, SockAddr bind, List<Backend> backends, AccessRules access, int udpTimeoutSec,
            SockAddr source, String origin, ProxyProtocol sendProxy, boolean acceptProxy) {
        this(proto, bind, backends, access, udpTimeoutSec, source, origin, sendProxy, Balancing.DEFAULT, acceptProxy);
    }

    /**
     * @param balancing the balance policy and health checking of the backends
     * @param acceptProxy each client must start with a PROXY protocol header (v1 or v2) naming the real client
     */
    public Forward(Proto proto, SockAddr bind, List<Backend> backends, AccessRules access, int udpTimeoutSec,
            SockAddr source, String origin, ProxyProtocol sendProxy, Balancing balancing, boolean acceptProxy) {
        this(proto, bind, backends, access, udpTimeoutSec, source, origin, sendProxy, balancing, acceptProxy, AccessRules.ALLOW_ALL);
    }

    /** @param proxyFrom with acceptProxy, the peers trusted to send the header ({@link AccessRules#ALLOW_ALL}: all) */
    private Forward(Proto proto, SockAddr bind, List<Backend> backends, AccessRules access, int udpTimeoutSec,
            SockAddr source, String origin, ProxyProtocol sendProxy, Balancing balancing, boolean acceptProxy, AccessRules proxyFrom) {
        if (backends.isEmpty()) throw new IllegalArgumentException("a forward needs at least one backend");
        if (backends.size() > MAX_BACKENDS) throw new IllegalArgumentException("a forward has at most " + MAX_BACKENDS + " backends");
        this.proto = proto;
        this.bind = bind;
        this.backends = List.copyOf(backends);
        this.access = access;
        this.udpTimeoutSec = udpTimeoutSec;
        this.source = source;
        this.origin = origin;
        this.sendProxy = sendProxy;
        this.balancing = balancing;
        this.acceptProxy = acceptProxy;
        this.proxyFrom = proxyFrom;
    }

    public Proto proto() {
        return proto;
    }

    public SockAddr bind() {
        return bind;
    }

    public List<Backend> backends() {
        return backends;
    }

    public AccessRules access() {
        return access;
    }

    public int udpTimeoutSec() {
        return udpTimeoutSec;
    }

    public SockAddr source() {
        return source;
    }

    public String origin() {
        return origin;
    }

    public ProxyProtocol sendProxy() {
        return sendProxy;
    }

    public Balancing balancing() {
        return balancing;
    }

    /** Clients start with a PROXY protocol header ({@code --accept-proxy}, {@code [accept-proxy]}). */
    public boolean acceptProxy() {
        return acceptProxy;
    }

    /**
     * With accept-proxy, whether {@code peer} (the connection's own address, before any header) may send the
     * header ({@code --accept-proxy-from}); a UNIX peer always may (its socket file's mode decides who connects).
     */
    public boolean trustsProxy(SockAddr peer) {
        return proxyFrom.check(peer) == null;
    }

    /** The same forward trusting only {@code cidrs} (CIDR blocks or addresses) to send the PROXY header; empty: all. */
    public Forward withAcceptProxyFrom(List<String> cidrs) {
        AccessRules from = cidrs.isEmpty() ? AccessRules.ALLOW_ALL : new AccessRules(List.of(), List.of(), cidrs, List.of());
        return new Forward(proto, bind, backends, access, udpTimeoutSec, source, origin, sendProxy, balancing, acceptProxy, from);
    }

    /** The same forward sending the PROXY protocol header {@code p} to its backends. */
    public Forward withSendProxy(ProxyProtocol p) {
        return new Forward(proto, bind, backends, access, udpTimeoutSec, source, origin, p, balancing, acceptProxy, proxyFrom);
    }

    /** The same forward balancing and checking its backends as {@code b} says. */
    public Forward withBalancing(Balancing b) {
        return new Forward(proto, bind, backends, access, udpTimeoutSec, source, origin, sendProxy, b, acceptProxy, proxyFrom);
    }

    /** The same forward expecting (or not) a PROXY protocol header from each client. */
    public Forward withAcceptProxy(boolean on) {
        return new Forward(proto, bind, backends, access, udpTimeoutSec, source, origin, sendProxy, balancing, on, proxyFrom);
    }

    /** The same forward with {@code bs} as its backends (a name re-resolved to other addresses). */
    public Forward withBackends(List<Backend> bs) {
        return new Forward(proto, bind, bs, access, udpTimeoutSec, source, origin, sendProxy, balancing, acceptProxy);
    }

    /** The same forward listening on {@code actual} (the real port when 0 was asked for). */
    public Forward boundTo(SockAddr actual) {
        return new Forward(proto, actual, backends, access, udpTimeoutSec, source, origin, sendProxy, balancing, acceptProxy, proxyFrom);
    }

    /**
     * What identifies a listener across reloads: the protocol and the listening address. Port 0 ("any free
     * port") is not an address two forwards can share, so there the origin (-L text, file:line) tells them apart.
     */
    public String key() {
        String k = key;
        if (k == null) key = k = proto.lower() + " " + bind + (bind.port() == 0 && !bind.isUnix() ? " (" + origin + ")" : "");
        return k;
    }

    private String key; // built once: duplicate checks and reloads look it up for every forward

    /** True if everything but the listening address is the same (a reload then changes nothing). */
    public boolean sameTargetAs(Forward o) {
        return proto == o.proto && backends.toString().equals(o.backends.toString())
                && access.toString().equals(o.access.toString()) && udpTimeoutSec == o.udpTimeoutSec
                && Objects.equals(source, o.source) && sendProxy == o.sendProxy && balancing.equals(o.balancing)
                && weights().equals(o.weights()) && acceptProxy == o.acceptProxy
                && proxyFrom.toString().equals(o.proxyFrom.toString());
    }

    private List<Integer> weights() {
        List<Integer> w = new java.util.ArrayList<>();
        for (Backend b : backends) w.add(b.weight());
        return w;
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
