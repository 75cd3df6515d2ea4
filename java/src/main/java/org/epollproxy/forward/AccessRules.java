package org.epollproxy.forward;

import org.epollproxy.config.AccessPattern;
import java.util.ArrayList;
import java.util.List;
import org.epollproxy.shim.SockAddr;

/**
 * The allow/deny patterns that apply to one forward, checked in rinetd's documented order: if there are
 * global allows the client must match one; a global deny match rejects; then the same for the rule's own
 * allows and denies. An empty set allows everyone.
 */
public final class AccessRules {
    public static final AccessRules ALLOW_ALL = new AccessRules(List.of(), List.of(), List.of(), List.of());

    private final List<AccessPattern> globalAllow;
    private final List<AccessPattern> globalDeny;
    private final List<AccessPattern> ruleAllow;
    private final List<AccessPattern> ruleDeny;

    public AccessRules(List<String> globalAllow, List<String> globalDeny, List<String> ruleAllow, List<String> ruleDeny) {
        this.globalAllow = compile(globalAllow);
        this.globalDeny = compile(globalDeny);
        this.ruleAllow = compile(ruleAllow);
        this.ruleDeny = compile(ruleDeny);
    }

    private static List<AccessPattern> compile(List<String> patterns) {
        List<AccessPattern> out = new ArrayList<>();
        for (String p : patterns) out.add(AccessPattern.of(p));
        return List.copyOf(out);
    }

    public boolean isEmpty() {
        return globalAllow.isEmpty() && globalDeny.isEmpty() && ruleAllow.isEmpty() && ruleDeny.isEmpty();
    }

    /**
     * null if {@code client} may connect; otherwise rinetd's result word: "not-allowed" (an allow list
     * exists and nothing in it matched) or "denied" (a deny pattern matched). A UNIX socket client is never
     * checked (the config parser refuses allow/deny on a UNIX listener; global ones do not apply to it).
     */
    public String check(SockAddr client) {
        if (client.isUnix()) return null; // IP patterns say nothing about a UNIX peer: its socket file's mode does
        if (!globalAllow.isEmpty() && !any(globalAllow, client)) return "not-allowed";
        if (any(globalDeny, client)) return "denied";
        if (!ruleAllow.isEmpty() && !any(ruleAllow, client)) return "not-allowed";
        if (any(ruleDeny, client)) return "denied";
        return null;
    }

    private static boolean any(List<AccessPattern> ps, SockAddr client) {
        for (AccessPattern p : ps) if (p.matches(client)) return true;
        return false;
    }

    @Override
    public String toString() {
        return "allow " + globalAllow + " deny " + globalDeny + " rule allow " + ruleAllow + " rule deny " + ruleDeny;
    }
}
