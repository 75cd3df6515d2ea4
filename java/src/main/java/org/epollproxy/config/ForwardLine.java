package org.epollproxy.config;

import java.util.ArrayList;
import java.util.List;

/**
 * A config file's forwarding line, rinetd's {@code bindaddress bindport connectaddress connectport}
 * with the options in brackets, and our {@code route} line, which is a forward line with a match (the
 * grammar: {@link ConfigParser}).
 */
final class ForwardLine extends ConfigLineReader {

    ForwardLine(int lineNo) {
        this.lineNo = lineNo;
    }

    /**
     * {@code bindaddress bindport connectaddress connectport [options]}: the rule, without allow/deny lines yet
     * (the lines that follow it add them).
     */
    Rule forward(String s, List<int[]> w) throws SpecException {
        boolean listenPath = ForwardSpec.isPath(word(s, w.get(0)));
        int c = listenPath ? 1 : 2; // the connect side's first word
        boolean connectPath = w.size() > c && ForwardSpec.isPath(word(s, w.get(c)));
        int words = c + (connectPath ? 1 : 2);
        if (w.size() < words || w.size() > words + 1) {
            throw error("expected \"bindaddress bindport connectaddress connectport [options]\" (a UNIX socket path "
                    + "stands for an address and its port) or allow/deny/logfile/pidlogfile/logcommon/resolver/resolve_interval/slow_start, found "
                    + w.size() + " word(s)", w.get(0)[0]);
        }
        String bindHost = listenPath ? unixPath(s, w.get(0)) : address(s, w.get(0));
        String[] bindPort = listenPath ? new String[] {"0", "tcp", null} : portAndProto(s, w.get(1));
        String connectHost = connectPath ? unixPath(s, w.get(c)) : address(s, w.get(c));
        String[] connectPort = connectPath ? new String[] {"0", "tcp", null} : portAndProto(s, w.get(c + 1));
        String proto = bindPort[1];
        if ((listenPath || connectPath) && (bindPort[1].equals("udp") || connectPort[1].equals("udp"))) {
            throw error("UNIX socket paths are for TCP forwards only", w.get(0)[0]);
        }
        if (!proto.equals(connectPort[1])) { // a bare port is tcp, on either side: "80 ... 53/udp" is mixed
            int col = w.get(bindPort[2] == null ? 1 : c + 1)[0];
            throw error("mixed protocols (" + bindPort[1] + " to " + connectPort[1] + ") are not supported: a port "
                    + "without /udp means tcp; write /" + (bindPort[2] != null ? bindPort[2] : connectPort[2])
                    + " on both ports", col);
        }
        int bp = listenPath ? 0 : port(s, w.get(1), bindPort[0], proto, true);
        int cp = connectPath ? 0 : port(s, w.get(c + 1), connectPort[0], proto, false);
        List<ForwardSpec.HostPort> backends = new ArrayList<>();
        backends.add(new ForwardSpec.HostPort(connectHost, cp));
        int timeout = -1;
        String src = null;
        String sendProxy = null;
        List<Integer> weights = new ArrayList<>(List.of(1));
        BalanceOptions.Builder balance = new BalanceOptions.Builder();
        int weightCol = -1; // where the first weight was given, for "weights need a policy that uses them"
        int checkCol = -1; // where the first check detail was given, for "needs check="
        boolean weightGiven = false;
        boolean acceptProxy = false;
        List<String> acceptProxyFrom = new ArrayList<>();
        int acceptProxyFromCol = -1;
        if (w.size() == words + 1) {
            int[] r = w.get(words);
            String opts = word(s, r);
            if (!opts.startsWith("[") || !opts.endsWith("]")) throw error("options must be in brackets: [timeout=DURATION,src=ADDRESS]", r[0]);
            int pos = r[0] + 1;
            for (String opt : opts.substring(1, opts.length() - 1).split(",", -1)) {
                String o = opt.strip();
                int col = pos + opt.indexOf(o.isEmpty() ? "" : o.substring(0, 1));
                pos += opt.length() + 1;
                int eq = o.indexOf('=');
                if (o.equals("accept-proxy")) {
                    if (proto.equals("udp")) throw error("accept-proxy (the PROXY protocol) applies to TCP forwards only", col);
                    acceptProxy = true;
                    continue;
                }
                if (eq < 0) throw error("option \"" + o + "\" needs a value: name=value", col);
                String name = o.substring(0, eq).strip();
                String value = o.substring(eq + 1).strip();
                switch (name) {
                    case "timeout":
                        long sec;
                        try {
                            sec = OptionValues.seconds(value); // 1200, 1200s, 20m: the options' one grammar
                        } catch (IllegalArgumentException e) {
                            sec = 0;
                        }
                        if (sec < 1 || sec > Integer.MAX_VALUE) {
                            throw error("timeout=" + value + ": expected a number of seconds, 1 or more, or a duration in whole seconds (1200s, 20m)", col);
                        }
                        timeout = (int) sec;
                        break;
                    case "src":
                        src = HostSyntax.check(value, true, col, lineNo);
                        break;
                    case "failover":
                    case "backend":
                        String[] hw = splitWeight(value, name, col);
                        backends.add(failover(hw[0], col, proto, name));
                        weights.add(hw[1] == null ? 1 : weight(hw[1], name + "=" + value, col));
                        if (hw[1] != null && weightCol < 0) weightCol = col;
                        if (backends.size() > MAX_BACKENDS) throw error("at most " + MAX_BACKENDS + " backends per forward", col);
                        break;
                    case "weight":
                        if (weightGiven) throw error("weight= is given twice (it weighs the connect address; "
                                + "other backends take backend=HOST:PORT:WEIGHT)", col);
                        weightGiven = true;
                        weights.set(0, weight(value, "weight=" + value, col));
                        if (weightCol < 0) weightCol = col;
                        break;
                    case "accept-proxy-from":
                        if (proto.equals("udp")) throw error("accept-proxy-from (the PROXY protocol) applies to TCP forwards only", col);
                        acceptProxyFrom.add(TrustedProxies.cidr(value, col + name.length() + 1, lineNo));
                        if (acceptProxyFromCol < 0) acceptProxyFromCol = col;
                        break;
                    case "proxy":
                        if (!value.equals("v1") && !value.equals("v2")) throw error("proxy=" + value + ": expected v1 or v2", col);
                        if (proto.equals("udp")) throw error("proxy= (the PROXY protocol) applies to TCP forwards only", col);
                        sendProxy = value;
                        break;
                    default:
                        try {
                            if (!balance.accept(name, value)) {
                                throw error("unknown option \"" + name + "\" (known: timeout, src, failover, backend, weight, proxy, accept-proxy, accept-proxy-from, "
                                        + BalanceOptions.NAMES + ")", col);
                            }
                        } catch (IllegalArgumentException e) {
                            String m = e.getMessage();
                            throw error(m.startsWith(name + "=") ? m : name + "=" + value + ": " + m, col);
                        }
                        if (name.startsWith("check_") || name.equals("rise") || name.equals("fall")) checkCol = checkCol < 0 ? col : checkCol;
                }
            }
        }
        if (acceptProxyFromCol >= 0 && !acceptProxy) {
            throw error("accept-proxy-from= needs the flag accept-proxy on the same line", acceptProxyFromCol);
        }
        BalanceOptions bo = balance.build();
        checkBalance(bo, proto, weightCol, checkCol, w.size() == 5 ? w.get(4)[0] : 0);
        return new Rule(lineNo, proto, bindHost, bp, backends, timeout, src, List.of(), List.of(), sendProxy, weights, bo, acceptProxy, acceptProxyFrom);
    }

    /** {@code route bindaddress bindport MATCH connectaddress connectport [options]}: a forward line with a match. */
    Rule route(String s, List<int[]> w) throws SpecException {
        if (w.size() < 5) {
            throw error("expected \"route bindaddress bindport MATCH connectaddress connectport [options]\"", w.get(0)[0]);
        }
        int[] m = w.get(3);
        String match = RouteSpec.checkMatch(word(s, m), m[0], lineNo);
        if (ForwardSpec.isPath(word(s, w.get(1)))) throw error("a route listens on a TCP port, not a UNIX socket path", w.get(1)[0]);
        List<int[]> rest = new ArrayList<>(w.subList(1, w.size()));
        rest.remove(2); // the match: what is left reads as a forward line
        Rule r = forward(s, rest);
        if (r.proto().equals("udp")) throw error("routes are for TCP listeners only", w.get(2)[0]);
        if (r.acceptProxy()) throw error("accept-proxy goes on the listener's forward line, not on a route", m[0]);
        if (r.bindPort() == 0) throw error("a route needs a fixed port", w.get(2)[0]);
        return new Rule(r.line(), r.proto(), r.bindHost(), r.bindPort(), r.backends(), r.timeoutSec(), r.source(), r.allow(), r.deny(),
                r.sendProxy(), r.weights(), r.balance(), false, List.of(), match);
    }

    /** The most backends a forward may have (as Forward.MAX_BACKENDS). */
    static final int MAX_BACKENDS = 64;

    /** Weights only mean something to a weighing policy; check settings only with check=; TCP only. */
    private void checkBalance(BalanceOptions bo, String proto, int weightCol, int checkCol, int optsCol) throws SpecException {
        String policy = bo.policy() == null ? "first" : bo.policy();
        if (weightCol >= 0 && policy.equals("first")) {
            throw error("a weight needs balance=roundrobin, leastconn or source (balance=first tries the backends in order)", weightCol);
        }
        if (checkCol >= 0 && bo.checkMs() == null) throw error("rise, fall, check_send and check_expect need check=INTERVAL", checkCol);
        if (proto.equals("udp") && bo.any()) {
            throw error("balance, health and check options apply to TCP forwards only (a UDP forward uses its first backend)", optsCol);
        }
    }

    /** {HOST:PORT, WEIGHT or null} of "HOST:PORT[:WEIGHT]" ("[v6]:PORT:WEIGHT" too). */
    private String[] splitWeight(String value, String name, int col) throws SpecException {
        int close = value.lastIndexOf(']');
        String tail = value.substring(close + 1);
        int colons = (int) tail.chars().filter(c -> c == ':').count();
        if (colons < 2) return new String[] {value, null};
        if (colons > 2) throw error(name + "=" + value + ": expected HOST:PORT or HOST:PORT:WEIGHT (IPv6 goes in brackets)", col);
        int last = value.lastIndexOf(':');
        return new String[] {value.substring(0, last), value.substring(last + 1)};
    }

    private int weight(String text, String option, int col) throws SpecException {
        if (!text.matches("\\d{1,4}") || Integer.parseInt(text) < 1 || Integer.parseInt(text) > 256) {
            throw error(option + ": a weight is a number 1-256", col);
        }
        return Integer.parseInt(text);
    }

    /** "HOST:PORT" or "[v6]:PORT" of a failover= or backend= option. */
    private ForwardSpec.HostPort failover(String value, int col, String proto, String name) throws SpecException {
        if (ForwardSpec.isPath(value)) {
            if (proto.equals("udp")) throw error("UNIX socket paths are for TCP forwards only", col);
            ForwardSpec.checkPath(value, col, lineNo);
            return ForwardSpec.HostPort.unix(value);
        }
        int colon = value.lastIndexOf(':');
        if (colon <= 0) throw error(name + "=" + value + ": expected HOST:PORT", col);
        String host = HostSyntax.check(value.substring(0, colon), false, col, lineNo);
        String port = value.substring(colon + 1);
        int p = port.matches("\\d{1,5}") ? Integer.parseInt(port) : Services.lookup(port, proto);
        if (p < 1 || p > 65535) throw error(name + "=" + value + ": bad port \"" + port + "\"", col);
        return new ForwardSpec.HostPort(host, p);
    }

    private String unixPath(String s, int[] r) throws SpecException {
        String p = word(s, r);
        ForwardSpec.checkPath(p, r[0], lineNo);
        return p;
    }

    private String address(String s, int[] r) throws SpecException {
        String a = word(s, r);
        if (a.equals("0")) return "0.0.0.0";
        return HostSyntax.check(a, true, r[0], lineNo);
    }

    /** {port text, proto, explicit proto or null}. */
    private String[] portAndProto(String s, int[] r) throws SpecException {
        String p = word(s, r);
        int slash = p.indexOf('/');
        if (slash < 0) return new String[] {p, "tcp", null};
        String proto = p.substring(slash + 1);
        if (!proto.equals("tcp") && !proto.equals("udp")) {
            throw error("unknown protocol \"/" + proto + "\" (expected /tcp or /udp)", r[0] + slash);
        }
        return new String[] {p.substring(0, slash), proto, proto};
    }

    private int port(String s, int[] r, String text, String proto, boolean allowZero) throws SpecException {
        int p;
        if (text.matches("\\d{1,5}")) {
            p = Integer.parseInt(text);
        } else if (text.matches("[A-Za-z_][A-Za-z0-9_.+-]*")) {
            p = Services.lookup(text, proto);
            if (p < 0) throw error("unknown service name \"" + text + "\" (not in /etc/services for " + proto + ")", r[0]);
        } else {
            throw error("bad port \"" + text + "\"", r[0]);
        }
        if (p > 65535 || (p == 0 && !allowZero)) throw error("port " + p + " is out of range " + (allowZero ? 0 : 1) + "-65535", r[0]);
        return p;
    }
}
