package org.epollproxy.config;

import java.util.List;

/**
 * One forwarding line of a rinetd-style config file.
 *
 * @param line 1-based line in the file, for messages
 * @param proto "tcp" or "udp" (both ports carry the same protocol; mixed lines are rejected)
 * @param bindHost as written, without brackets ("0.0.0.0" for rinetd's bare "0")
 * @param backends the connect address first, then any {@code failover=} backends
 * @param timeoutSec {@code [timeout=N]}: UDP session idle timeout in seconds, or -1 for the default
 * @param source {@code [src=ADDRESS]}: local address for the backend side, or null
 * @param allow the rule's own allow patterns (lines right after it)
 * @param deny the rule's own deny patterns
 * @param sendProxy {@code [proxy=v1|v2]} (our extension): the PROXY protocol header to send, or null
 * @param weights each backend's weight, in the order of {@code backends} ({@code weight=}, {@code backend=H:P:W})
 * @param balance the line's balancing and health options ({@link BalanceOptions#NONE}: none given)
 * @param acceptProxy {@code [accept-proxy]} (our extension): clients start with a PROXY protocol header
 * @param acceptProxyFrom {@code [accept-proxy-from=CIDR]} (repeatable): the peers trusted to send it, as CIDR
 *     blocks; empty: every peer
 * @param route for a {@code route} line (our extension): its match ({@code sni:a.example.com}); null for a forward
 */
public record Rule(int line, String proto, String bindHost, int bindPort, List<ForwardSpec.HostPort> backends,
        int timeoutSec, String source, List<String> allow, List<String> deny, String sendProxy, List<Integer> weights,
        BalanceOptions balance, boolean acceptProxy, List<String> acceptProxyFrom, String route) {

    public Rule {
        acceptProxyFrom = List.copyOf(acceptProxyFrom);
        backends = List.copyOf(backends);
        allow = List.copyOf(allow);
        deny = List.copyOf(deny);
        weights = List.copyOf(weights);
        if (weights.size() != backends.size()) throw new IllegalArgumentException("one weight per backend");
    }

    /** A forwarding line (not a route) with the peers trusted to send the PROXY header. */
    public Rule(int line, String proto, String bindHost, int bindPort, List<ForwardSpec.HostPort> backends,
            int timeoutSec, String source, List<String> allow, List<String> deny, String sendProxy, List<Integer> weights,
            BalanceOptions balance, boolean acceptProxy, List<String> acceptProxyFrom) {
        this(line, proto, bindHost, bindPort, backends, timeoutSec, source, allow, deny, sendProxy, weights, balance, acceptProxy,
                acceptProxyFrom, null);
    }

    /** A line without balancing options: every backend weighs 1. */
    public Rule(int line, String proto, String bindHost, int bindPort, List<ForwardSpec.HostPort> backends,
            int timeoutSec, String source, List<String> allow, List<String> deny, String sendProxy) {
        this(line, proto, bindHost, bindPort, backends, timeoutSec, source, allow, deny, sendProxy,
                java.util.Collections.nCopies(backends.size(), 1), BalanceOptions.NONE, false);
    }

    /** A line without accept-proxy-from: every peer may send the PROXY header. */
    public Rule(int line, String proto, String bindHost, int bindPort, List<ForwardSpec.HostPort> backends,
            int timeoutSec, String source, List<String> allow, List<String> deny, String sendProxy, List<Integer> weights,
            BalanceOptions balance, boolean acceptProxy) {
        this(line, proto, bindHost, bindPort, backends, timeoutSec, source, allow, deny, sendProxy, weights, balance, acceptProxy, List.of());
    }

    /** The rule as a -L/-U style spec, for messages: {@code 0.0.0.0:80:10.0.0.2:8080}. */
    public ForwardSpec spec() {
        return new ForwardSpec(proto, bindHost, bindPort, backends);
    }
}
