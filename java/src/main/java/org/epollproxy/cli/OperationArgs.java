package org.epollproxy.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The command line's options about running the process (a picocli mixin of {@link Main}): the --stats
 * endpoint, draining on SIGTERM, handing the listening sockets to a new process (--control, --takeover)
 * after a --warmup, and what is logged (--trace, --quiet).
 */
final class OperationArgs {

    @Option(names = "--stats", paramLabel = "[BIND:]PORT",
            description = "Serve /metrics, /connections, /backends, /healthz and /livez over HTTP (below); BIND "
                    + "defaults to 127.0.0.1.")
    String stats;

    @Option(names = "--drain-timeout", paramLabel = "DURATION", defaultValue = "10s",
            converter = DurationConverter.Seconds.class,
            description = "On SIGTERM, let open connections finish for up to DURATION, then reset the rest; a "
                    + "bare number is seconds; 0 = stop at once (default: ${DEFAULT-VALUE}).")
    long drainTimeoutMs;

    @Option(names = "--control", paramLabel = "PATH",
            description = "Hand the listening sockets to a new process started with --takeover PATH (a UNIX "
                    + "socket, mode 0600), then drain. A stale socket at PATH is replaced; anything else is refused.")
    Path controlPath;

    @Option(names = "--takeover", paramLabel = "PATH",
            description = "Take the listening sockets over from the process running with --control PATH "
                    + "(same forwards and --threads); it drains.")
    Path takeoverPath;

    @Option(names = "--warmup", paramLabel = "auto|DURATION", defaultValue = "0", converter = WarmupDuration.class,
            description = "Before listening, run connections through a private loopback forward, so the JIT has "
                    + "compiled the forwarding path when clients come: for takeovers and rolling restarts. auto: until "
                    + "the JIT has been idle for 200 ms (at most 10 s); DURATION: that long (at least one connection, "
                    + "at most 10 s), a bare number is milliseconds (default: ${DEFAULT-VALUE}, none).")
    long warmupMs;

    @Option(names = "--trace", description = "Print every epoll event and syscall on stderr.")
    boolean trace;

    @Option(names = "--quiet", description = "No per-connection log lines.")
    boolean quiet;
}
