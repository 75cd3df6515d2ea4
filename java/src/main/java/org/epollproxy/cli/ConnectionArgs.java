package org.epollproxy.cli;

import org.epollproxy.forward.Settings;
import picocli.CommandLine.Option;

/**
 * The command line's options about each connection (a picocli mixin of {@link Main}): its buffers, its
 * timeouts, keepalive, the cap on open TCP connections, and how long and how many UDP sessions live.
 * Main checks their ranges together with other groups' values, in one order, so that of two bad values
 * the same one is named.
 */
final class ConnectionArgs {

    @Option(names = "--buffer-size", paramLabel = "SIZE", converter = SizeConverter.class,
            description = "Buffer per direction, held only while bytes wait for a slow peer (1k-64m; "
                    + "default: ${DEFAULT-VALUE}).", defaultValue = "32k")
    int bufferSize;

    @Option(names = "--connect-timeout", paramLabel = "DURATION", defaultValue = "5s",
            converter = DurationConverter.Millis.class,
            description = "Give up a backend connect after DURATION; a bare number is milliseconds "
                    + "(default: ${DEFAULT-VALUE}).")
    long connectTimeoutMs;

    @Option(names = "--idle-timeout", paramLabel = "DURATION", defaultValue = "0",
            converter = DurationConverter.Seconds.class,
            description = "Close a connection after DURATION without traffic; a bare number is seconds; "
                    + "0 = never (default).")
    long idleTimeoutMs;

    @Option(names = "--fin-timeout", paramLabel = "DURATION", defaultValue = "60s",
            converter = DurationConverter.Seconds.class,
            description = "Close a half-closed connection (one side sent FIN) after DURATION; a bare number is "
                    + "seconds; 0 = never (default: ${DEFAULT-VALUE}).")
    long finTimeoutMs;

    @Option(names = "--udp-timeout", paramLabel = "DURATION", defaultValue = "72s",
            converter = DurationConverter.Seconds.class,
            description = "End a UDP session after DURATION without a datagram either way; a bare number is "
                    + "seconds (default: ${DEFAULT-VALUE}, as rinetd; a config line's [timeout=] wins).")
    long udpTimeoutMs;

    @Option(names = "--udp-max-sessions", paramLabel = "N", defaultValue = "4096",
            description = "UDP sessions per forward; beyond N a new client evicts the least recently active "
                    + "(default: ${DEFAULT-VALUE}).")
    int udpMaxSessions;

    @Option(names = "--keepalive", description = "SO_KEEPALIVE on both sockets, so dead peers are noticed (off by default). The kernel's "
                    + "timers apply: the first probe after net.ipv4.tcp_keepalive_time idle (7200 s by default).")
    boolean keepalive;

    @Option(names = "--max-connections", paramLabel = "N", defaultValue = "0",
            description = "Stop accepting while N TCP connections are open (the rest wait in the backlog); 0 = no cap (default).")
    int maxConnections;

    /** Puts these options into {@code b}; call after Main's range checks passed. */
    Settings.Builder applyTo(Settings.Builder b) {
        return b.bufferSize(bufferSize)
                .connectTimeoutMs((int) connectTimeoutMs)
                .idleTimeoutSec(DurationConverter.toSeconds(idleTimeoutMs))
                .finTimeoutSec(DurationConverter.toSeconds(finTimeoutMs))
                .keepalive(keepalive)
                .maxConnections(maxConnections)
                .udpTimeoutSec(DurationConverter.toSeconds(udpTimeoutMs))
                .udpMaxSessions(udpMaxSessions);
    }
}
