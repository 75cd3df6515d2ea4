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
import org.epollproxy.forward.PrereadLimits;
import org.epollproxy.forward.ProxyProtocol;
import org.epollproxy.forward.Route;
import org.epollproxy.shim.SockAddr;

/**
 * Turns what the user gave (-L/-U specs and a config file) into resolved {@link Forward}s, at start and
 * again on every reload. The config's global allow/deny lines apply to every forward, -L/-U included.
 */
final class Forwards {

    /**
     * A -L or -U argument with the text the user typed, for messages, --send-proxy and --accept-proxy (TCP
     * only) with the peers trusted to send the header ({@code --accept-proxy-from} as CIDR blocks; empty: all),
     * and for a --route its match (null for a forward).
     */
    record Arg(ForwardSpec spec, String text, ProxyProtocol sendProxy, Balancing balancing, boolean acceptProxy,
            List<String> acceptProxyFrom, String route) {
        Arg(ForwardSpec spec, String text, ProxyProtocol sendProxy, Balancing balancing, boolean acceptProxy,
                List<String> acceptProxyFrom) {
            this(spec, text, sendProxy, balancing, acceptProxy, acceptProxyFrom, null);
        }

        Arg(ForwardSpec spec, String text, ProxyProtocol sendProxy) {
            this(spec, text, sendProxy, Balancing.DEFAULT, false);
        }

        Arg(ForwardSpec spec, String text, ProxyProtocol sendProxy, Balancing balancing, boolean acceptProxy) {
            this(spec, text, sendProxy, balancing, acceptProxy, List.of(), null);
        }
    }

    static List<Forward> build(List<Arg> args, Config config) throws Resolver.ResolveException {
        return build(args, config, PrereadLimits.DEFAULT);
    }

    /**
     * The forwards of {@code args} and {@code config}, then their routes ({@code --route} arguments and
     * {@code route} lines, in that order) attached to the TCP listener on the same address: the -L or
     * forward line there is the default route; without one the listener has routes only.
     */
    static List<Forward> build(List<Arg> args, Config config, PrereadLimits limits) throws Resolver.ResolveException {
        List<Arg> plain = new ArrayList<>();
        List<Arg> routes = new ArrayList<>();
        for (Arg a : args) (a.route() == null ? plain : routes).add(a);
        List<Rule> ruleRoutes = new ArrayList<>();
        Config forwardsOnly = config;
        if (config != null) {
            List<Rule> rs = new ArrayList<>();
            for (Rule r : config.rules()) (r.route() == null ? rs : ruleRoutes).add(r);
            forwardsOnly = new Config(config.file(), rs, config.allow(), config.deny(), config.logFile(), config.logCommon(), config.pidFile(), config.dynamic(), config.tls());
        }
        List<Forward> out = buildForwards(plain, forwardsOnly);
        if (routes.isEmpty() && ruleRoutes.isEmpty()) return out;
        Map<String, Integer> at = new HashMap<>();
        for (int i = 0; i < out.size(); i++) at.putIfAbsent(out.get(i).key(), i);
        Map<Integer, List<Route>> added = new java.util.LinkedHashMap<>();
        List<String> gAllow = config == null ? List.of() : config.allow();
        List<String> gDeny = config == null ? List.of() : config.deny();
        for (Arg a : routes) {
            String origin = "--route " + a.text();
            Forward target = forward(a.spec(), null, AccessRules.ALLOW_ALL, -1, null, origin);
            attach(out, at, added, target, a.route(), a.sendProxy(), a.balancing(), a.acceptProxy(), globalRules(gAllow, gDeny), origin);
        }
        for (Rule r : ruleRoutes) {
            String origin = config.file() + ":" + r.line();
            SockAddr src = r.source() == null ? null : Resolver.address(r.source(), 0, origin);
            Forward target = forward(r.spec(), r.weights(), AccessRules.ALLOW_ALL, -1, src, origin);
            attach(out, at, added, target, r.route(), r.sendProxy() == null ? null : ProxyProtocol.parse(r.sendProxy()),
                    BalanceArgs.forRule(r.balance()), false, globalRules(gAllow, gDeny), origin);
        }
        for (Map.Entry<Integer, List<Route>> e : added.entrySet()) {
            Forward f = out.get(e.getKey());
            List<Route> rs = new ArrayList<>();
            for (Route r : e.getValue()) rs.add(new Route(r.name(), f.routeTarget(r.name(), r.target().backends(),
                    r.target().balancing(), r.target().sendProxy(), r.target().origin(), r.target().source())));
            out.set(e.getKey(), f.withRoutes(rs, limits));
        }
        return out;
    }

    private static AccessRules globalRules(List<String> gAllow, List<String> gDeny) {
        return gAllow.isEmpty() && gDeny.isEmpty() ? AccessRules.ALLOW_ALL : new AccessRules(gAllow, gDeny, List.of(), List.of());
    }

    /**
     * Adds a route (for now holding its backends, balancing and PROXY version in {@code target}) to the
     * listener on {@code target}'s address, making one without a default route when none listens there.
     */
    private static void attach(List<Forward> out, Map<String, Integer> at, Map<Integer, List<Route>> added, Forward target,
            String match, ProxyProtocol send, Balancing balancing, boolean acceptProxy, AccessRules rules, String origin) {
        String key = target.key();
        Integer i = at.get(key);
        if (i == null) {
            Forward listener = new Forward(Forward.Proto.TCP, target.bind(), target.backends(), rules, -1, null, origin,
                    send == null ? ProxyProtocol.OFF : send, Balancing.DEFAULT, acceptProxy)
                    .withRoutes(List.of(new Route(match, target)), PrereadLimits.DEFAULT).withoutBackends();
            out.add(listener);
            i = out.size() - 1;
            at.put(key, i);
            added.put(i, new ArrayList<>());
        }
        Forward carrier = new Forward(Forward.Proto.TCP, target.bind(), target.backends(), AccessRules.ALLOW_ALL, -1, target.source(),
                origin, send, balancing, false);
        added.computeIfAbsent(i, k -> new ArrayList<>()).add(new Route(match, carrier));
    }

    private static List<Forward> buildForwards(List<Arg> args, Config config) throws Resolver.ResolveException {
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
            Map<String, Route> names = new HashMap<>();
            for (Route r : f.routes()) {
                Route before = names.putIfAbsent(r.name(), r);
                if (before != null) {
                    return r.target().origin() + ": the route " + r.name() + " on " + f.bind() + " is already given by "
                            + before.target().origin() + " (the first match wins: this one would never be used)";
                }
            }
        }
        return null;
    }

    private Forwards() {}
}
