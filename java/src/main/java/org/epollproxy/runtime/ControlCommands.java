package org.epollproxy.runtime;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.epollproxy.forward.Backend;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.Log;
import org.epollproxy.forward.balance.AdminState;
import org.epollproxy.forward.balance.BackendGroup;
import org.epollproxy.forward.balance.BackendInfo;
import org.epollproxy.forward.balance.BackendState;

/**
 * The run-time commands of {@code epoll-proxy ctl}, as they come over the {@code --control} socket: one
 * line {@code ctl 1 FORWARD COMMAND [ARG...]} (FORWARD is {@code [BIND:]PORT} or {@code *} for every TCP
 * forward), answered by zero or more {@code . TEXT} lines and then one {@code ok TEXT} or
 * {@code error TEXT} line, after which the server closes the connection.
 *
 * <pre>
 *   backends                        every backend: admin state, health, weight, open, name, last seen
 *   drain BACKEND                   no new clients; open connections finish
 *   disable BACKEND [--reset]       maintenance: no new clients; open ones finish, or are reset with --reset
 *   enable BACKEND                  back to ready: health checks decide again (slow start if set)
 *   weight BACKEND N                weight 1-256 from now on (0: back to the configured weight)
 * </pre>
 *
 * BACKEND is {@code HOST:PORT} as the forward shows it, or {@code NAME:PORT} for every address a name
 * resolved to. Every argument is checked before anything changes: bad input changes nothing. Runs on
 * the control socket's loop; the state it changes is shared by every loop (volatile fields).
 */
final class ControlCommands {
    /** The first word of a command line, after which the control server hands the line here. */
    static final String PREFIX = "ctl 1 ";
    private static final int MAX_WEIGHT = Backend.MAX_WEIGHT;

    private final ProxyServer proxy;
    private final Log log;

    ControlCommands(ProxyServer proxy, Log log) {
        this.proxy = proxy;
        this.log = log;
    }

    /** A refused command: the one line the peer gets after "error ". */
    static final class Refused extends Exception {
        Refused(String why) {
            super(why);
        }
    }

    /** Runs {@code line} (without the prefix) for the peer with {@code uid}; returns the reply lines. */
    List<String> run(String line, int uid) {
        List<String> out = new ArrayList<>();
        try {
            out.add("ok " + execute(line.trim().split(" +"), uid, out));
        } catch (Refused e) {
            out.clear();
            out.add("error " + e.getMessage());
            log.error("control: uid " + uid + ": refused \"" + printable(line) + "\": " + e.getMessage());
        }
        return out;
    }

    private String execute(String[] w, int uid, List<String> out) throws Refused {
        if (w.length < 2 || w[0].isEmpty()) throw new Refused("expected FORWARD COMMAND [ARG...]");
        List<BackendGroup> groups = forwards(w[0]);
        String cmd = w[1];
        switch (cmd) {
            case "backends" -> {
                args(w, 2, 2, "backends");
                return list(groups, out);
            }
            case "drain", "enable" -> {
                args(w, 3, 3, cmd + " BACKEND");
                return admin(groups, w[2], cmd.equals("drain") ? AdminState.DRAIN : AdminState.READY, false, uid, out);
            }
            case "disable" -> {
                args(w, 3, 4, "disable BACKEND [--reset]");
                if (w.length == 4 && !w[3].equals("--reset")) throw new Refused("disable: unknown option \"" + printable(w[3]) + "\" (only --reset)");
                return admin(groups, w[2], AdminState.DISABLED, w.length == 4, uid, out);
            }
            case "weight" -> {
                args(w, 4, 4, "weight BACKEND N");
                int n;
                if (!w[3].matches("\\d{1,3}") || (n = Integer.parseInt(w[3])) > MAX_WEIGHT) {
                    throw new Refused("weight: \"" + printable(w[3]) + "\" is not a weight 1-" + MAX_WEIGHT + " (0: the configured one)");
                }
                return weight(groups, w[2], n, uid, out);
            }
            default -> throw new Refused("unknown command \"" + printable(cmd) + "\" (known: backends, drain, disable, enable, weight)");
        }
    }

    private static void args(String[] w, int min, int max, String usage) throws Refused {
        if (w.length < min || w.length > max) throw new Refused("usage: " + usage);
    }

    /** The running TCP forwards {@code spec} names: "*", "[BIND:]PORT" or a UNIX path. */
    private List<BackendGroup> forwards(String spec) throws Refused {
        List<BackendGroup> out = new ArrayList<>();
        for (BackendGroup g : proxy.backendPool().groups()) {
            Forward f = g.forward();
            if (f.proto() != Forward.Proto.TCP) continue;
            String bind = f.bind().toString();
            boolean port = !f.bind().isUnix() && spec.equals(Integer.toString(f.bind().port()));
            if (spec.equals("*") || spec.equals(bind) || port) out.add(g);
        }
        if (out.isEmpty()) throw new Refused("no TCP forward listens on \"" + printable(spec) + "\"");
        return out;
    }

    /** Every (group, index) whose backend {@code spec} names; Refused if none. */
    private static List<Object[]> backends(List<BackendGroup> groups, String spec) throws Refused {
        List<Object[]> out = new ArrayList<>();
        for (BackendGroup g : groups) {
            for (int i = 0; i < g.size(); i++) {
                Backend b = g.forward().backends().get(i);
                String byName = b.host() + ":" + b.address().port();
                if (spec.equals(b.address().toString()) || spec.equals(byName)) out.add(new Object[] {g, i});
            }
        }
        if (out.isEmpty()) {
            throw new Refused("no backend \"" + printable(spec) + "\" in " + (groups.size() == 1 ? "forward " + groups.get(0).forward().bind()
                    : "any forward") + " (see 'backends')");
        }
        return out;
    }

    /**
     * One {@code . FORWARD BACKEND ...} line per backend the command met, changed or not, so that the
     * operator sees which forwards a backend shared by several was changed in; a backend already in the
     * state asked for is said to be ("already drain"), not counted as changed. The same address twice in
     * a forward is one backend (one state), met once.
     */
    private String admin(List<BackendGroup> groups, String spec, AdminState to, boolean reset, int uid, List<String> out) throws Refused {
        int changed = 0;
        int already = 0;
        List<BackendState> met = new ArrayList<>();
        for (Object[] t : backends(groups, spec)) {
            BackendGroup g = (BackendGroup) t[0];
            BackendState s = g.state((int) t[1]);
            if (met.contains(s)) continue;
            met.add(s);
            AdminState from = s.admin();
            String line = s.setAdmin(to, "ctl (uid " + uid + ")");
            String which = ". " + g.forward().label() + " " + s.address() + " ";
            if (line != null) {
                log.info(line);
                changed++;
                out.add(which + to.text() + " (was " + from.text() + ")");
            } else {
                already++;
                out.add(which + "already " + to.text());
            }
        }
        for (BackendState s : reset ? met : List.<BackendState>of()) {
            proxy.onEachLoop((i, fl) -> {
                int n = fl.resetUsing(s);
                if (n > 0) fl.log().info("backend " + s.address() + ": reset " + n + " open connection(s) on loop " + i + " (ctl disable --reset, uid " + uid + ")");
            });
        }
        return changed + " backend(s) changed to " + to.text() + (already > 0 ? ", " + already + " already " + to.text() : "")
                + (reset ? "; their open connections are being reset" : "");
    }

    private String weight(List<BackendGroup> groups, String spec, int n, int uid, List<String> out) throws Refused {
        int changed = 0;
        List<BackendState> met = new ArrayList<>();
        for (Object[] t : backends(groups, spec)) {
            BackendGroup g = (BackendGroup) t[0];
            int i = (int) t[1];
            BackendState s = g.state(i);
            if (met.contains(s)) continue; // the same address twice in a forward: one backend
            met.add(s);
            int was = g.weight(i);
            log.info(s.setWeight(n, g.forward().backends().get(i).weight(), "ctl (uid " + uid + ")"));
            out.add(". " + g.forward().label() + " " + s.address() + " weight " + g.weight(i) + " (was " + was + ")");
            changed++;
        }
        return changed + " backend(s) weighted " + (n == 0 ? "as configured" : Integer.toString(n));
    }

    private String list(List<BackendGroup> groups, List<String> out) {
        List<String> keys = new ArrayList<>();
        for (BackendGroup g : groups) keys.add(g.forward().label()); // a route's backends are listed as "BIND route=NAME"
        int n = 0;
        for (BackendInfo b : proxy.backendPool().snapshot()) {
            if (!keys.contains(b.forward())) continue;
            n++;
            out.add(". " + b.forward() + " " + b.backend() + " admin=" + b.admin() + " health=" + (b.up() ? "up" : "down")
                    + " weight=" + b.weight() + " open=" + b.open()
                    + (b.name() == null ? "" : " name=" + b.name() + " last_seen=" + Instant.ofEpochMilli(b.lastSeenMillis())));
        }
        return n + " backend(s)";
    }

    /** Peer text for a log or reply line: escaped and cut short as the control socket's other messages are. */
    static String printable(String s) {
        return ControlChannel.printable(s);
    }
}
