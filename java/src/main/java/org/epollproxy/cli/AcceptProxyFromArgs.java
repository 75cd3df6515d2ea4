package org.epollproxy.cli;

import java.util.ArrayList;
import java.util.List;
import org.epollproxy.config.SpecException;
import org.epollproxy.config.TrustedProxies;
import picocli.CommandLine.Option;

/**
 * {@code --accept-proxy-from} (a picocli mixin of {@link Main}): the load balancers trusted to send the PROXY
 * protocol header that {@code --accept-proxy} reads. A header announces the client's address, which then
 * picks the access rule, the balancing hash and the per-client limit: only a trusted peer may announce one.
 */
final class AcceptProxyFromArgs {

    @Option(names = "--accept-proxy-from", paramLabel = "CIDR", split = ",",
            description = "With --accept-proxy: only connections from these addresses (CIDR blocks or single addresses; "
                    + "repeatable) may send the PROXY header; a connection from elsewhere is closed unread "
                    + "(end=untrusted-proxy). Default: every address is trusted. E.g. --accept-proxy-from 10.0.1.0/24,10.0.2.7")
    List<String> from = new ArrayList<>();

    /** The entries as CIDR blocks; filled by {@link #problem}. */
    private final List<String> cidrs = new ArrayList<>();

    /** A usage message naming the bad entry, or null when every entry is sound. */
    String problem(boolean acceptProxy) {
        if (!from.isEmpty() && !acceptProxy) return "--accept-proxy-from applies to --accept-proxy, which is not given";
        cidrs.clear();
        for (String f : from) {
            try {
                cidrs.add(TrustedProxies.cidr(f, 0, 0));
            } catch (SpecException e) {
                return "--accept-proxy-from " + f + ": " + e.getMessage();
            }
        }
        return null;
    }

    /** The trusted peers as CIDR blocks (empty: every peer); after {@link #problem} said null. */
    List<String> cidrs() {
        return List.copyOf(cidrs);
    }
}
