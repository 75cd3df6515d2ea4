package org.epollproxy.cli;

import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import org.epollproxy.config.OptionValues;
import org.epollproxy.dns.DnsClient;
import org.epollproxy.runtime.Reresolver;
import picocli.CommandLine.Option;

/**
 * The options of backends that move (a picocli mixin of {@link Main}): names re-resolved while running,
 * the DNS server to ask, and the slow start of a backend that comes back. See docs/dynamic-backends.md.
 */
final class DynamicArgs {
    /** How long one DNS query waits for its answer (it is tried twice). */
    static final int QUERY_TIMEOUT_MS = 2000;

    /** --resolve-interval when neither the command line nor the config file sets it. */
    static final String DEFAULT_INTERVAL = "30s";

    @Option(names = "--resolve-interval", paramLabel = "DURATION",
            description = "Re-resolve every backend given by name (a route's too) each DURATION (at least 1s), off the event loops; every "
                    + "address (A and AAAA) becomes a backend with the name's weight, addresses that disappear take no new "
                    + "clients while their open connections finish; a failed or empty answer keeps the last good set "
                    + "(default: 30s; config file: resolve_interval).")
    String resolveInterval;

    @Option(names = "--resolver", paramLabel = "IP[:PORT]",
            description = "Ask this DNS server (UDP, and TCP for an answer too long for a datagram; port 53 by default) for backend names, as nginx's resolver, instead of "
                    + "the system's resolver (whose answers the JVM caches for 30 s; config file: resolver).")
    String resolver;

    @Option(names = "--slow-start", paramLabel = "DURATION",
            description = "A backend coming back (enabled, up again after failures or checks, or a new address of a "
                    + "re-resolved name) takes a share of new clients "
                    + "that grows from 1/16 to all of its weight's over DURATION, as haproxy's slowstart. Off by default "
                    + "(config file: slow_start).")
    String slowStart;

    /**
     * A one-line message naming the bad option, or null. The config file's lines ({@code fromFile}, may be
     * null) fill what the command line does not set.
     */
    String problem(org.epollproxy.config.DynamicOptions fromFile, String file) {
        if (fromFile != null) {
            if (resolveInterval == null && fromFile.resolveIntervalMs() != null) resolveInterval = fromFile.resolveIntervalMs() + "ms";
            if (slowStart == null && fromFile.slowStartMs() != null) slowStart = fromFile.slowStartMs() + "ms";
            if (resolver == null && fromFile.resolver() != null) {
                resolver = fromFile.resolver();
                try {
                    server();
                } catch (IllegalArgumentException e) {
                    return file + ": resolver " + resolver + ": " + e.getMessage();
                }
            }
        }
        if (resolveInterval == null) resolveInterval = DEFAULT_INTERVAL;
        try {
            if (OptionValues.millis(resolveInterval) < Reresolver.MIN_INTERVAL_MS) {
                return "--resolve-interval must be at least 1s, not " + resolveInterval;
            }
        } catch (IllegalArgumentException e) {
            return "--resolve-interval: " + e.getMessage();
        }
        try {
            if (slowStart != null) OptionValues.millis(slowStart);
        } catch (IllegalArgumentException e) {
            return "--slow-start: " + e.getMessage();
        }
        try {
            if (resolver != null) server();
        } catch (IllegalArgumentException e) {
            return "--resolver " + resolver + ": " + e.getMessage();
        }
        return null;
    }

    long slowStartNanos() {
        return slowStart == null ? 0 : OptionValues.millis(slowStart) * 1_000_000L;
    }

    /** The DNS client of --resolver, or null for the system's resolver. */
    DnsClient client() {
        return resolver == null ? null : new DnsClient(server(), QUERY_TIMEOUT_MS);
    }

    /** Re-resolution through --resolver, or the JDK's (the system's) resolver. */
    Reresolver reresolver(PrintStream err) {
        DnsClient c = client();
        Reresolver.Lookup l = c != null ? c::lookup : name -> List.of(InetAddress.getAllByName(name));
        return new Reresolver(l, OptionValues.millis(resolveInterval), err);
    }

    /** IP or IP:PORT, [IPv6] or [IPv6]:PORT: an address, not a name (the resolver cannot look itself up). */
    private InetSocketAddress server() {
        String host = resolver;
        int port = 53;
        int close = resolver.lastIndexOf(']');
        int colon = resolver.lastIndexOf(':');
        if (resolver.startsWith("[") && close > 0) {
            host = resolver.substring(1, close);
            if (close + 1 < resolver.length()) {
                if (resolver.charAt(close + 1) != ':') throw new IllegalArgumentException("expected [IPv6]:PORT");
                port = port(resolver.substring(close + 2));
            }
        } else if (colon > 0 && resolver.indexOf(':') == colon) {
            host = resolver.substring(0, colon);
            port = port(resolver.substring(colon + 1));
        }
        if (!(host.matches("\\d{1,3}(\\.\\d{1,3}){3}") || host.contains(":"))) {
            throw new IllegalArgumentException("expected an IP address (and :PORT), not a name");
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(host), port); // a literal: nothing is looked up
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException("\"" + host + "\" is not an IP address");
        }
    }

    private static int port(String p) {
        if (!p.matches("\\d{1,5}") || Integer.parseInt(p) < 1 || Integer.parseInt(p) > 65535) {
            throw new IllegalArgumentException("\"" + p + "\" is not a port 1-65535");
        }
        return Integer.parseInt(p);
    }
}
