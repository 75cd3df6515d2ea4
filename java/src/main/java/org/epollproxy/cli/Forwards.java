package org.epollproxy.cli;

import org.epollproxy.config.ForwardSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.epollproxy.forward.AccessRules;
import org.epollproxy.config.Config;
import org.epollproxy.config.Rule;
import org.epollproxy.forward.Backend;
import org.epollproxy.forward.Balancing;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.ProxyProtocol;
import org.epollproxy.shim.SockAddr;

/**
 * Turns what the user gave (-L/-U specs and a config file) into resolved {@link Forward}s, at start and
 * again on every reload. The config's global allow/deny lines apply to every forward, -L/-U included.
 */
final class Forwards {

    /**
     * A -L or -U argument with the text the user typed, for messages, --send-proxy and --accept-proxy (TCP
     * only) with the peers trusted to send the header ({@code --accept-proxy-from} as CIDR blocks; empty: all).
     */
    record Arg(ForwardSpec spec, String text, ProxyProtocol sendProxy, Balancing balancing, boolean acceptProxy,
            List<String> acceptProxyFrom) {
        Arg(ForwardSpec spec, String text, ProxyProtocol sendProxy) {
            this(spec, text, sendProxy, Balancing.DEFAULT, false);
        }

        Arg(ForwardSpec spec, String text, ProxyProtocol sendProxy, Balancing balancing, boolean acceptProxy) {
            this(spec, text, sendProxy, balancing, acceptProxy, List.of());
        }
    }

    static List<Forward> build(List<Arg> args, Config config) throws Resolver.ResolveException {
        List<String> gAllow = config == null ? List.of() : config.allow();
        List<String> gDeny = config == null ? List.of() : config.deny();
        List<Forward> out = new ArrayList<>();
        for (Arg a : args) {
            String origin = (a.spec().proto().equals("udp") ? "-U " : "-L ") + a.text();
            AccessRules rules = gAllow.isEmpty() && gDeny.isEmpty() ? AccessRules.ALLOW_ALL
                    : new AccessRules(gAllow, gDeny, List.of(), List.of());
            out.add(forward(a.spec(), null, rules, -1, null, origin).withSendProxy(a.sendProxy()).withBalancing(a.balancing())
                    .withAcceptProxy(a.acceptProxy()).withAcceptProxyFrom(a.acceptProxyFrom()));
        }
        if (config != null) {
            for (Rule r : config.rules()) {
                String origin = config.file() + ":" + r.line();
                SockAddr src = r.source() == null ? null : Resolver.address(r.source(), 0, origin);
                Forward f = forward(r.spec(), r.weights(), new AccessRules(gAllow, gDeny, r.allow(), r.deny()), r.timeoutSec(), src, origin)
                        .withBalancing(BalanceArgs.forRule(r.balance())).withAcceptProxy(r.acceptProxy())
                        .withAcceptProxyFrom(r.acceptProxyFrom());
                out.add(r.sendProxy() == null ? f : f.withSendProxy(ProxyProtocol.parse(r.sendProxy())));
            }
        }
        return out;
    }

    /** @param weights one per backend, or null: all 1 */
    private static Forward forward(ForwardSpec spec, List<Integer> weights, AccessRules rules, int timeout, SockAddr src,
            String origin) throws Resolver.ResolveException {
        SockAddr bind = Resolver.address(Resolver.bindHost(spec.bindHost()), spec.bindPort(), origin);
        List<Backend> backends = new ArrayList<>();
        for (int i = 0; i < spec.backends().size(); i++) {
            ForwardSpec.HostPort hp = spec.backends().get(i);
            backends.add(new Backend(hp.host(), Resolver.address(hp.host(), hp.port(), origin), weights == null ? 1 : weights.get(i)));
        }
        Forward.Proto proto = spec.proto().equals("udp") ? Forward.Proto.UDP : Forward.Proto.TCP;
        // IP patterns do not apply to a UNIX listener's clients (the socket file's mode does): see unixNotes
        if (bind.isUnix()) rules = AccessRules.ALLOW_ALL;
        return new Forward(proto, bind, backends, rules, timeout, src, origin);
    }

    /**
     * "listening tcp 127.0.0.1:9000 -> 10.0.0.5:80", "listening udp ...", or "listening unix /run/app.sock -> ..."
     * for a UNIX socket listener: what clients connect to, not the protocol the forward is filed under.
     */
    static String listeningLine(Forward f) {
        return "listening " + (f.bind().isUnix() ? "unix" : f.proto().lower()) + " " + f;
    }

    /** One note per UNIX listener when global allow/deny lines exist: they do not apply to it. */
    static List<String> unixNotes(List<Forward> forwards, Config config) {
        List<String> out = new ArrayList<>();
        if (config == null || (config.allow().isEmpty() && config.deny().isEmpty())) return out;
        for (Forward f : forwards) {
            if (f.bind().isUnix()) {
                out.add("note: the global allow/deny lines do not apply to the UNIX socket listener " + f.bind()
                        + " (" + f.origin() + "): its clients have no IP address; its file mode (--unix-mode) says who may connect");
            }
        }
        return out;
    }

    /**
     * null, or a message naming both places when two forwards would listen on the same address. One hash
     * lookup per forward: the pairwise comparison it replaces took 31 s for 15,000 forwards.
     */
    static String duplicate(List<Forward> forwards) {
        Map<String, Forward> seen = new HashMap<>(forwards.size() * 2);
        for (Forward f : forwards) {
            String key = f.key();
            Forward first = seen.putIfAbsent(key, f);
            if (first != null) return f.origin() + ": " + key + " is already forwarded by " + first.origin();
        }
        return null;
    }

    private Forwards() {}
}
