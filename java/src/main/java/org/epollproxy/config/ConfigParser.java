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
public final class ConfigParser extends ConfigLineReader {
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
    /** TLS lines as {option, value}: see {@link TlsLine}. */
    private final List<String[]> tls = new ArrayList<>();

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
                openRule(new ForwardLine(lineNo).route(s, w));
                return;
            case "tls-cert":
            case "tls-alpn":
            case "tls-client-ca":
            case "tls-client-ca-optional":
            case "backend-tls":
            case "backend-ca":
            case "backend-cert":
                tls.add(new TlsLine(lineNo).option(s, w, first));
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
                openRule(new ForwardLine(lineNo).forward(s, w));
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

    /** The next rule or the end of the file completes the open rule with its allow/deny lines. */
    private void closeRule() {
        if (open == null) return;
        rules.add(new Rule(open.line(), open.proto(), open.bindHost(), open.bindPort(), open.backends(),
                open.timeoutSec(), open.source(), ruleAllow, ruleDeny, open.sendProxy(), open.weights(), open.balance(), open.acceptProxy(),
                open.acceptProxyFrom(), open.route()));
        open = null;
    }

    /** A forward or route line: the rule before it is complete, this one takes the allow/deny lines that follow. */
    private void openRule(Rule r) {
        closeRule();
        open = r;
        ruleAllow = new ArrayList<>();
        ruleDeny = new ArrayList<>();
    }
}
