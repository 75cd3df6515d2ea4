package org.epollproxy.cli;

import org.epollproxy.forward.Settings;
import picocli.CommandLine.Option;

/**
 * The command line's options about clients (a picocli mixin of {@link Main}): the PROXY protocol header
 * accepted from a load balancer, per-client limits, and the mode of UNIX socket files listened on.
 */
final class ClientArgs {

    @Option(names = "--accept-proxy",
            description = "Every -L client must start with a PROXY protocol header (v1 or v2, from a load balancer); "
                    + "its address becomes the client's everywhere. Trust only your load balancers: --accept-proxy-from.")
    boolean acceptProxy;

    @Option(names = "--accept-proxy-timeout", paramLabel = "DURATION", defaultValue = "3s",
            converter = DurationConverter.Millis.class,
            description = "With --accept-proxy: close a client whose header is not complete after DURATION; a bare "
                    + "number is milliseconds (default: ${DEFAULT-VALUE}).")
    long acceptProxyTimeoutMs;

    @Option(names = "--max-connections-per-client", paramLabel = "N", defaultValue = "0",
            description = "Open connections per client address (IPv6: per /64); beyond, closed at once "
                    + "(end=client-limit); 0 = no limit (default).")
    int maxPerClient;

    @Option(names = "--client-rate", paramLabel = "N/SEC",
            description = "New connections per client address: N per SEC seconds, bursts up to N; e.g. 20/1 (default: no rate limit).")
    String clientRate;

    @Option(names = "--client-table-size", paramLabel = "N", defaultValue = "65536",
            description = "Client addresses tracked for the two limits above: their memory bound; when none can be "
                    + "forgotten, new addresses share one overflow entry limited like a single client "
                    + "(default: ${DEFAULT-VALUE}).")
    int clientTableSize;

    @Option(names = "--unix-mode", paramLabel = "MODE",
            description = "Permission bits (octal, 0 to 0777, e.g. 0660) of the UNIX socket files listened on "
                    + "(default: the umask's).")
    String unixMode;

    /** A usage message naming the bad value, or null when every value is sound. */
    String problem() {
        if (acceptProxyTimeoutMs <= 0 || acceptProxyTimeoutMs > Integer.MAX_VALUE) {
            return "--accept-proxy-timeout must be 1ms to 596h, not " + DurationConverter.format(acceptProxyTimeoutMs);
        }
        if (maxPerClient < 0) return "--max-connections-per-client must be 0 or more, not " + maxPerClient;
        if (clientTableSize < 1) return "--client-table-size must be 1 or more, not " + clientTableSize;
        if (clientRate != null && !clientRate.matches("[1-9]\\d{0,8}/[1-9]\\d{0,5}")) {
            return "--client-rate " + clientRate + ": expected N/SEC, N connections per SEC seconds (both 1 or more), e.g. 20/1";
        }
        if (unixMode != null && !unixMode.matches("0?[0-7]{1,3}")) { // 0 too: only root may connect then
            return "--unix-mode " + unixMode + ": expected octal permission bits from 0 to 0777, such as 0660";
        }
        return null;
    }

    /** Puts these options into {@code b}; call after {@link #problem()} said null. */
    Settings.Builder applyTo(Settings.Builder b) {
        int n = 0;
        int per = 1;
        if (clientRate != null) {
            String[] r = clientRate.split("/");
            n = Integer.parseInt(r[0]);
            per = Integer.parseInt(r[1]);
        }
        return b.unixMode(unixMode == null ? -1 : Integer.parseInt(unixMode, 8))
                .proxyHeaderTimeoutMs((int) acceptProxyTimeoutMs)
                .maxPerClient(maxPerClient)
                .clientRate(n, per)
                .clientTableSize(clientTableSize);
    }
}
