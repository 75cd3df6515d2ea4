package org.epollproxy.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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
 * ::1      4000/udp  127.0.0.1 22      [timeout=1200,src=127.0.0.1]
 * allow 206.125.69.*             # after a rule: that rule only
 * logfile /var/log/rinetd.log
 * logcommon
 * pidlogfile /var/run/rinetd.pid
 * </pre>
 *
 * Addresses are IPv4, IPv6 (bare or in brackets; {@code 0} means 0.0.0.0) or host names; ports are
 * numbers or service names with an optional {@code /tcp} or {@code /udp}. Patterns are globs with
 * {@code *} and {@code ?} on the client's numeric address, or (an extension) CIDR blocks such as
 * {@code 10.0.0.0/8}. Extensions rinetd files never contain: the option {@code failover=HOST:PORT}
 * (repeatable) adds backends tried in order when a connect is refused or times out, and
 * {@code proxy=v1|v2} sends the PROXY protocol header to the backend, the flag {@code accept-proxy} expects
 * one from each client. A UNIX stream socket path (it holds a '/') may stand for an address and its port
 * on either side: {@code /run/app.sock 10.0.0.5 8080}, {@code 0.0.0.0 2375 /var/run/docker.sock},
 * {@code /run/a.sock /run/b.sock}; allow/deny lines cannot follow a rule listening on a UNIX socket.
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
    private int lineNo;

    private ConfigParser(String file) {
        this.file = file;
    }

    public static Config parse(Path path) throws IOException, SpecException {
        return parse(Files.readString(path, StandardCharsets.UTF_8), path.toString());
    }

    public static Config parse(String text, String file) throws SpecException {
        ConfigParser p = new ConfigParser(file);
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            p.lineNo = i + 1;
            p.line(lines[i]);
        }
        p.closeRule();
        return new Config(file, p.rules, p.globalAllow, p.globalDeny, p.logFile, p.logCommon, p.pidFile);
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
            case "logcommon":
                expect(s, w, 1, "logcommon");
                logCommon = true;
                return;
            default:
                forward(s, w);
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
                open.timeoutSec(), open.source(), ruleAllow, ruleDeny, open.sendProxy(), open.acceptProxy()));
        open = null;
    }

    private void forward(String s, List<int[]> w) throws SpecException {
        boolean listenPath = ForwardSpec.isPath(word(s, w.get(0)));
        int c = listenPath ? 1 : 2; // the connect side's first word
        boolean connectPath = w.size() > c && ForwardSpec.isPath(word(s, w.get(c)));
        int words = c + (connectPath ? 1 : 2);
        if (w.size() < words || w.size() > words + 1) {
            throw error("expected \"bindaddress bindport connectaddress connectport [options]\" (a UNIX socket path "
                    + "stands for an address and its port) or allow/deny/logfile/pidlogfile/logcommon, found "
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
        if (!proto.equals(connectPort[1]) && connectPort[2] != null && bindPort[2] != null) {
            throw error("mixed protocols (" + bindPort[1] + " to " + connectPort[1] + ") are not supported: "
                    + "use the same protocol on both ports", w.get(1)[0]);
        }
        if (connectPort[2] != null) proto = connectPort[1]; // "80 ... 8000/udp": the explicit one wins
        int bp = listenPath ? 0 : port(s, w.get(1), bindPort[0], proto, true);
        int cp = connectPath ? 0 : port(s, w.get(c + 1), connectPort[0], proto, false);
        List<ForwardSpec.HostPort> backends = new ArrayList<>();
        backends.add(new ForwardSpec.HostPort(connectHost, cp));
        int timeout = -1;
        String src = null;
        String sendProxy = null;
        boolean acceptProxy = false;
        if (w.size() == words + 1) {
            int[] r = w.get(words);
            String opts = word(s, r);
            if (!opts.startsWith("[") || !opts.endsWith("]")) throw error("options must be in brackets: [timeout=SECONDS,src=ADDRESS]", r[0]);
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
                        if (!value.matches("\\d{1,9}") || Integer.parseInt(value) == 0) {
                            throw error("timeout=" + value + ": expected a number of seconds, 1 or more", col);
                        }
                        timeout = Integer.parseInt(value);
                        break;
                    case "src":
                        src = HostSyntax.check(value, true, col, lineNo);
                        break;
                    case "failover":
                        backends.add(failover(value, col, proto));
                        break;
                    case "proxy":
                        if (!value.equals("v1") && !value.equals("v2")) throw error("proxy=" + value + ": expected v1 or v2", col);
                        if (proto.equals("udp")) throw error("proxy= (the PROXY protocol) applies to TCP forwards only", col);
                        sendProxy = value;
                        break;
                    default:
                        throw error("unknown option \"" + name + "\" (known: timeout, src, failover, proxy, accept-proxy)", col);
                }
            }
        }
        closeRule();
        open = new Rule(lineNo, proto, bindHost, bp, backends, timeout, src, List.of(), List.of(), sendProxy, acceptProxy);
        ruleAllow = new ArrayList<>();
        ruleDeny = new ArrayList<>();
    }

    /** "HOST:PORT" or "[v6]:PORT" of a failover= option. */
    private ForwardSpec.HostPort failover(String value, int col, String proto) throws SpecException {
        if (ForwardSpec.isPath(value)) {
            if (proto.equals("udp")) throw error("UNIX socket paths are for TCP forwards only", col);
            ForwardSpec.checkPath(value, col, lineNo);
            return ForwardSpec.HostPort.unix(value);
        }
        int colon = value.lastIndexOf(':');
        if (colon <= 0) throw error("failover=" + value + ": expected HOST:PORT", col);
        String host = HostSyntax.check(value.substring(0, colon), false, col, lineNo);
        String port = value.substring(colon + 1);
        int p = port.matches("\\d{1,5}") ? Integer.parseInt(port) : Services.lookup(port, proto);
        if (p < 1 || p > 65535) throw error("failover=" + value + ": bad port \"" + port + "\"", col);
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
