package org.epollproxy.config;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * rinetd's configuration grammar, so an existing /etc/rinetd.conf works unchanged:
 *
 * <pre>
 * # comment (anywhere; blank lines are fine)
 * allow 192.168.2.*              # before the first rule: global
 * deny  192.168.2.1?
 * 0.0.0.0  80        10.1.1.2  8080
 * ::1      4000/udp  127.0.0.1 22/udp  [timeout=1200,src=127.0.0.1]
 * allow 206.125.69.*             # after a rule: that rule only
 * logfile /var/log/rinetd.log
 * logcommon
 * pidlogfile /var/run/rinetd.pid
 * resolver 10.0.0.2:53           # extensions: backend names re-resolved while running
 * resolve_interval 10s           # (DynamicOptions)
 * slow_start 30s
 * </pre>
 *
 * Addresses are IPv4, IPv6 (bare or in brackets; {@code 0} means 0.0.0.0) or host names; ports are
 * numbers or service names with an optional {@code /tcp} or {@code /udp}. Patterns are globs with
 * {@code *} and {@code ?} on the client's numeric address, or (an extension) CIDR blocks such as
 * {@code 10.0.0.0/8}. Extensions rinetd files never contain: the option {@code backend=HOST:PORT[:WEIGHT]}
 * (repeatable; {@code failover=} is the same) adds backends, {@code weight=N} weighs the connect address,
 * {@code balance=} picks the policy and {@code max_fails= fail_timeout= check= rise= fall= check_send=
 * check_expect=} set health checking ({@link BalanceOptions}); {@code proxy=v1|v2} sends the PROXY
 * protocol header to the backend, the flag {@code accept-proxy} expects one from each client, and
 * {@code accept-proxy-from=CIDR} (repeatable) trusts only those peers to send it. A UNIX
 * stream socket path (it holds a '/') may stand for an address and its port on either side:
 * {@code /run/app.sock 10.0.0.5 8080}, {@code 0.0.0.0 2375 /var/run/docker.sock},
 * {@code /run/a.sock /run/b.sock}; allow/deny lines cannot follow a rule listening on a UNIX socket.
 *
 * <p>Routes (our extension): {@code route bindaddress bindport MATCH connectaddress connectport [options]}
 * adds a route to the TCP listener on that address (the forward line with the same address, if any, is its
 * default route; without one, clients no route takes are closed). MATCH is as in {@code --route}
 * ({@link RouteSpec#checkMatch}); the options are a forward line's ({@code backend=}, {@code balance=},
 * checks, {@code proxy=}). Routes are tried in file order. allow/deny lines cannot follow a route line: they
 * apply to the listener, so they follow its forward line (or come before the first rule).
 *
 * <p>Every error is a {@link SpecException} carrying the line and the column.
 */
public final class ConfigParser {
    private final String file;
    private final List<Rule> rules = new ArrayList<>();
    private final List<String> globalAllow = new ArrayList<>();
    private final List<String> globalDeny = new ArrayList<>();
    /** The last forwarding rule, still open for its own allow/deny lines; null before the first. */
    private Rule open;
    private List<String> ruleAllow;
    private List<String> ruleDeny;
    private String logFile;
    private boolean logCommon;
    private String pidFile;
    private String resolver;
    private Integer resolveIntervalMs;
    private Integer slowStartMs;
    /** TLS lines as {option, value}: see {@link #tlsLine}. */
    private final List<String[]> tls = new ArrayList<>();

    /** The TLS line keywords, each the command-line option of the same name, and how many words follow the port. */
    private static final java.util.Map<String, int[]> TLS_LINES = java.util.Map.of(
            "tls-cert", new int[] {2, 2}, "tls-alpn", new int[] {1, 1}, "tls-client-ca", new int[] {1, 1},
            "tls-client-ca-optional", new int[] {1, 1}, "backend-tls", new int[] {0, 1}, "backend-ca", new int[] {1, 1},
            "backend-cert", new int[] {2, 2});

    /**
     * {@code tls-cert bindaddress bindport CERT KEY}, {@code tls-alpn bindaddress bindport PROTO[,PROTO]},
     * {@code tls-client-ca[-optional] bindaddress bindport CA}, {@code backend-tls bindaddress bindport [NAME]},
     * {@code backend-ca bindaddress bindport CA}, {@code backend-cert bindaddress bindport CERT KEY}: the option
     * {@code --KEYWORD bindaddress:bindport:WORD[:WORD]}, for the listener with that address.
     */
    private void tlsLine(String s, List<int[]> w, String keyword) throws SpecException {
        int[] n = TLS_LINES.get(keyword);
        if (w.size() < 3 + n[0] || w.size() > 3 + n[1]) {
            String args = keyword.endsWith("cert") ? " CERT KEY" : keyword.equals("tls-alpn") ? " PROTO[,PROTO...]"
                    : keyword.equals("backend-tls") ? " [NAME]" : " CA";
            throw error("expected \"" + keyword + " bindaddress bindport" + args + "\"", w.size() > 3 + n[1] ? w.get(3 + n[1])[0] : s.length());
        }
        String port = word(s, w.get(2));
        if (!port.matches("\\d{1,5}")) throw error("'" + port + "' is not a port number", w.get(2)[0]);
        String host = word(s, w.get(1));
        StringBuilder v = new StringBuilder(host.contains(":") ? "[" + host + "]" : host).append(':').append(port);
        for (int i = 3; i < w.size(); i++) v.append(':').append(fileName(s, w.get(i)));
        tls.add(new String[] {"--" + keyword, v.toString()});
    }
    private int lineNo;

    private ConfigParser(String file) {
        this.file = file;
    }

    /**
     * Reads and parses {@code path}: at most 16 MiB are read (a larger file, or a device such as
     * /dev/zero, is refused) and the text must be UTF-8; a {@link SpecException} with line 0 is about the
     * whole file.
     */
    public static Config parse(Path path) throws IOException, SpecException {
        return parse(ConfigText.read(path), path.toString());
    }

    public static Config parse(String text, String file) throws SpecException {
        ConfigParser p = new ConfigParser(file);
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            p.lineNo = i + 1;
            p.line(lines[i]);
        }
        p.closeRule();
        return new Config(file, p.rules, p.globalAllow, p.globalDeny, p.logFile, p.logCommon, p.pidFile,
                new DynamicOptions(p.resolver, p.resolveIntervalMs, p.slowStartMs), p.tls);
    }

    private SpecException error(String msg, int column) {
        return new SpecException(msg, column, lineNo);
    }

    /** [start, end) of each whitespace-separated word before a '#' comment (outside double quotes). */
    private static List<int[]> words(String s) {
        List<int[]> w = words(s, 4);
        boolean unix = !w.isEmpty() && (ForwardSpec.isPath(word(s, w.get(0))) || (w.size() > 2 && ForwardSpec.isPath(word(s, w.get(2)))));
        return unix ? words(s, 2) : w; // a UNIX socket path is one word where an address and a port are two
    }

    /** As {@link #words(String)}, an option list in brackets starting at word {@code optionsFrom} or later. */
    private static List<int[]> words(String s, int optionsFrom) {
        List<int[]> out = new ArrayList<>();
        int i = 0;
        int n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            if (c == '#') break;
            if (c == ' ' || c == '\t' || c == '\r') {
                i++;
                continue;
            }
            int start = i;
            if (c == '"') {
                int close = s.indexOf('"', i + 1);
                i = close < 0 ? n : close + 1;
            } else if (c == '[' && out.size() >= optionsFrom) {
                // an option list may contain blanks and bracketed IPv6: "[timeout=10, failover=[::1]:80]"
                int depth = 0;
                while (i < n) {
                    char d = s.charAt(i++);
                    if (d == '[') depth++;
                    else if (d == ']' && --depth == 0) break;
                }
            } else {
                while (i < n && " \t\r#".indexOf(s.charAt(i)) < 0) i++;
            }
            out.add(new int[] {start, i});
        }
        return out;
    }

    private void line(String s) throws SpecException {
        List<int[]> w = words(s);
        if (w.isEmpty()) return;
        String first = word(s, w.get(0));
        switch (first) {
            case "allow":
            case "deny":
                expect(s, w, 2, first + " PATTERN");
                if (open != null && open.route() != null) {
                    throw error(first + " cannot follow the route of line " + open.line() + ": allow/deny apply to a whole "
                            + "listener, so they go after its forward line or before the first rule", w.get(0)[0]);
                }
                if (open != null && ForwardSpec.isPath(open.bindHost())) {
                    throw error(first + " cannot apply to the rule of line " + open.line() + ": it listens on a UNIX socket, "
                            + "whose clients have no IP address (the socket file's mode, --unix-mode, says who may connect)", w.get(0)[0]);
                }
                String pattern = AccessPattern.check(word(s, w.get(1)), w.get(1)[0], lineNo);
                (first.equals("allow") ? (open != null ? ruleAllow : globalAllow)
                        : (open != null ? ruleDeny : globalDeny)).add(pattern);
                return;
            case "logfile":
                expect(s, w, 2, "logfile PATH");
                logFile = fileName(s, w.get(1));
                return;
            case "pidlogfile":
                expect(s, w, 2, "pidlogfile PATH");
                pidFile = fileName(s, w.get(1));
                return;
            case "route":
                route(s, w);
                return;
            case "tls-cert":
            case "tls-alpn":
            case "tls-client-ca":
            case "tls-client-ca-optional":
            case "backend-tls":
            case "backend-ca":
            case "backend-cert":
                tlsLine(s, w, first);
                return;
            case "logcommon":
                expect(s, w, 1, "logcommon");
                logCommon = true;
                return;
            case "resolver":
                expect(s, w, 2, "resolver IP[:PORT]");
                if (resolver != null) throw error("resolver is given twice", w.get(0)[0]);
                resolver = word(s, w.get(1));
                return;
            case "resolve_interval":
                expect(s, w, 2, "resolve_interval DURATION");
                if (resolveIntervalMs != null) throw error("resolve_interval is given twice", w.get(0)[0]);
                resolveIntervalMs = duration(s, w.get(1), "resolve_interval", DynamicOptions.MIN_INTERVAL_MS);
                return;
            case "slow_start":
                expect(s, w, 2, "slow_start DURATION");
                if (slowStartMs != null) throw error("slow_start is given twice", w.get(0)[0]);
                slowStartMs = duration(s, w.get(1), "slow_start", 1);
                return;
            default:
                forward(s, w);
        }
    }

    private int duration(String s, int[] r, String name, int min) throws SpecException {
        try {
            int ms = OptionValues.millis(word(s, r));
            if (ms < min) throw new IllegalArgumentException("must be at least " + min / 1000 + "s");
            return ms;
        } catch (IllegalArgumentException e) {
            throw error(name + " " + word(s, r) + ": " + e.getMessage(), r[0]);
        }
    }

    private void expect(String s, List<int[]> w, int n, String form) throws SpecException {
        if (w.size() != n) {
            int col = w.size() > n ? w.get(n)[0] : s.length();
            throw error("expected \"" + form + "\"" + (w.size() > n ? ", found extra \"" + word(s, w.get(n)) + "\"" : ""), col);
        }
    }

    private static String word(String s, int[] r) {
        return s.substring(r[0], r[1]);
    }

    private String fileName(String s, int[] r) throws SpecException {
        String f = word(s, r);
        if (f.startsWith("\"")) {
            if (f.length() < 3 || !f.endsWith("\"")) throw error("unterminated or empty quoted file name", r[0]);
            f = f.substring(1, f.length() - 1);
        }
        return f;
    }

    /** The next rule or the end of the file completes the open rule with its allow/deny lines. */
    private void closeRule() {
        if (open == null) return;
        rules.add(new Rule(open.line(), open.proto(), open.bindHost(), open.bindPort(), open.backends(),
                open.timeoutSec(), open.source(), ruleAllow, ruleDeny, open.sendProxy(), open.weights(), open.balance(), open.acceptProxy(),
                open.acceptProxyFrom(), open.route()));
        open = null;
    }

    private void forward(String s, List<int[]> w) throws SpecException {
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
        closeRule();
        open = new Rule(lineNo, proto, bindHost, bp, backends, timeout, src, List.of(), List.of(), sendProxy, weights, bo, acceptProxy, acceptProxyFrom);
        ruleAllow = new ArrayList<>();
        ruleDeny = new ArrayList<>();
    }

    /** {@code route bindaddress bindport MATCH connectaddress connectport [options]}: a forward line with a match. */
    private void route(String s, List<int[]> w) throws SpecException {
        if (w.size() < 5) {
            throw error("expected \"route bindaddress bindport MATCH connectaddress connectport [options]\"", w.get(0)[0]);
        }
        int[] m = w.get(3);
        String match = RouteSpec.checkMatch(word(s, m), m[0], lineNo);
        if (ForwardSpec.isPath(word(s, w.get(1)))) throw error("a route listens on a TCP port, not a UNIX socket path", w.get(1)[0]);
        List<int[]> rest = new ArrayList<>(w.subList(1, w.size()));
        rest.remove(2); // the match: what is left reads as a forward line
        forward(s, rest);
        Rule r = open;
        if (r.proto().equals("udp")) throw error("routes are for TCP listeners only", w.get(2)[0]);
        if (r.acceptProxy()) throw error("accept-proxy goes on the listener's forward line, not on a route", m[0]);
        if (r.bindPort() == 0) throw error("a route needs a fixed port", w.get(2)[0]);
        open = new Rule(r.line(), r.proto(), r.bindHost(), r.bindPort(), r.backends(), r.timeoutSec(), r.source(), r.allow(), r.deny(),
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
