package org.epollproxy.cli;

import org.epollproxy.config.BalanceOptions;
import org.epollproxy.config.OptionValues;
import org.epollproxy.forward.Balancing;
import picocli.CommandLine.Option;

/**
 * The balancing and health options of the command line (a picocli mixin of {@link Main}). They apply to
 * the -L forwards; a config file line has the same options in its brackets ({@code [balance=roundrobin]}).
 */
final class BalanceArgs {

    @Option(names = "--balance", paramLabel = "POLICY",
            description = "Which backend a new client gets: first (default), roundrobin, leastconn or source "
                    + "(a hash of the client's address).")
    String balance;

    @Option(names = "--max-fails", paramLabel = "N", defaultValue = "3",
            description = "Passive health: N consecutive failed connects mark a backend down for --fail-timeout; "
                    + "0 = never (default: ${DEFAULT-VALUE}).")
    int maxFails;

    @Option(names = "--fail-timeout", paramLabel = "DURATION", defaultValue = "10s",
            description = "How long a backend marked down by failures is skipped; a bare number is seconds "
                    + "(default: ${DEFAULT-VALUE}).")
    String failTimeout;

    @Option(names = "--check", paramLabel = "INTERVAL",
            description = "Active health: connect to every backend each INTERVAL (a duration; a bare number is "
                    + "seconds); off by default.")
    String check;

    @Option(names = "--rise", paramLabel = "N", defaultValue = "2",
            description = "Passed checks that bring a down backend up (default: ${DEFAULT-VALUE}).")
    int rise;

    @Option(names = "--fall", paramLabel = "N", defaultValue = "3",
            description = "Failed checks that take a backend down (default: ${DEFAULT-VALUE}).")
    int fall;

    @Option(names = "--check-send", paramLabel = "TEXT",
            description = "A check sends TEXT once connected (escapes \\r \\n \\t \\\\ \\xHH), e.g. 'PING\\r\\n' "
                    + "(default: nothing; the connect alone is the check).")
    String checkSend;

    @Option(names = "--check-expect", paramLabel = "TEXT",
            description = "A check passes only if the reply starts with TEXT, e.g. '+PONG' (default: no reply is "
                    + "read; the check passes once connected and TEXT sent).")
    String checkExpect;

    /** The -L forwards' balancing; IllegalArgumentException with a message naming the option otherwise. */
    Balancing toBalancing() {
        Balancing.Policy p;
        try {
            p = balance == null ? Balancing.Policy.FIRST : Balancing.Policy.parse(balance);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--balance: " + e.getMessage());
        }
        if (maxFails < 0 || maxFails > 1000) throw new IllegalArgumentException("--max-fails must be 0-1000, not " + maxFails);
        if (rise < 1 || rise > 1000) throw new IllegalArgumentException("--rise must be 1-1000, not " + rise);
        if (fall < 1 || fall > 1000) throw new IllegalArgumentException("--fall must be 1-1000, not " + fall);
        int failMs = value("--fail-timeout", failTimeout, true);
        int checkMs = check == null ? 0 : value("--check", check, true);
        String send = checkSend == null ? null : text("--check-send", checkSend);
        String expect = checkExpect == null ? null : text("--check-expect", checkExpect);
        if (checkMs == 0 && (send != null || expect != null)) {
            throw new IllegalArgumentException("--check-send and --check-expect need --check INTERVAL");
        }
        return new Balancing(p, maxFails, failMs, checkMs, rise, fall, send, expect);
    }

    private static int value(String option, String v, boolean duration) {
        try {
            return OptionValues.millis(v);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option + ": " + e.getMessage());
        }
    }

    private static String text(String option, String v) {
        try {
            return OptionValues.escaped(v);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option + ": " + e.getMessage());
        }
    }

    /** A config line's options over the defaults (the command line's options do not apply to config lines). */
    static Balancing forRule(BalanceOptions o) {
        Balancing d = Balancing.DEFAULT;
        return new Balancing(o.policy() == null ? d.policy() : Balancing.Policy.parse(o.policy()),
                o.maxFails() == null ? d.maxFails() : o.maxFails(),
                o.failTimeoutMs() == null ? d.failTimeoutMs() : o.failTimeoutMs(),
                o.checkMs() == null ? 0 : o.checkMs(),
                o.rise() == null ? d.rise() : o.rise(),
                o.fall() == null ? d.fall() : o.fall(),
                o.checkSend(), o.checkExpect());
    }
}
