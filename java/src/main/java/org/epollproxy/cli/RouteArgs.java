package org.epollproxy.cli;

import java.util.ArrayList;
import java.util.List;
import org.epollproxy.config.OptionValues;
import org.epollproxy.forward.PrereadLimits;
import picocli.CommandLine.Option;

/**
 * The command line's routing options (a picocli mixin of {@link Main}): routes that pick a backend group
 * by what the client sends first (TLS server name or ALPN, SSH, HTTP), and how long and how much of the
 * client is read to decide. A config file's {@code route} lines are the same routes.
 */
final class RouteArgs {

    @Option(names = "--route", paramLabel = "[BIND:]PORT:MATCH=HOST:PORT[,HOST:PORT...]",
            description = "A route on the TCP listener [BIND:]PORT (repeatable; the first that matches wins, in the order "
                    + "given; the -L on the same address is the default route, else unmatched clients are closed, "
                    + "end=no-route). MATCH: sni:NAME (TLS server name, case-insensitive), sni:*.DOMAIN (one or more "
                    + "labels), alpn:PROTO (offered by the client, e.g. h2, acme-tls/1), proto:tls, proto:ssh (also a client "
                    + "silent for --route-ssh-wait), proto:http (an HTTP/1.x request), any. TLS is never terminated: the "
                    + "bytes read to decide go first to the backend, intact. E.g. --route 443:sni:git.example.com=10.0.0.7:443.")
    List<String> routes = new ArrayList<>();

    @Option(names = "--preread-max", paramLabel = "SIZE", converter = SizeConverter.class, defaultValue = "16k",
            description = "With routes: the most bytes read from a client to choose its route; still undecided: closed "
                    + "(end=preread-too-long). At most --buffer-size minus 107 (default: ${DEFAULT-VALUE}).")
    int prereadMax;

    @Option(names = "--preread-timeout", paramLabel = "DURATION", defaultValue = "10s",
            description = "With routes: close a client still undecided after DURATION (seconds, or 500ms; "
                    + "end=preread-timeout; default: ${DEFAULT-VALUE}).")
    String prereadTimeout;

    @Option(names = "--route-ssh-wait", paramLabel = "DURATION", defaultValue = "2s",
            description = "With a proto:ssh route: a client that sent nothing for DURATION goes to it (an SSH client waits "
                    + "for the server's banner; default: ${DEFAULT-VALUE}).")
    String sshWait;

    /** The limits; IllegalArgumentException naming the option otherwise. {@code bufferSize}: --buffer-size. */
    PrereadLimits limits(int bufferSize) {
        int timeout = millis("--preread-timeout", prereadTimeout);
        int ssh = millis("--route-ssh-wait", sshWait);
        // The bytes read to decide wait in one pool buffer behind the PROXY header sent (ProxyProtocol.MAX_HEADER).
        int room = Math.max(bufferSize, 2 * org.epollproxy.forward.ProxyProtocol.MAX_HEADER) - org.epollproxy.forward.ProxyProtocol.MAX_HEADER;
        if (prereadMax > room) {
            throw new IllegalArgumentException("--preread-max " + prereadMax + " does not fit --buffer-size " + bufferSize
                    + " (at most " + room + "): raise --buffer-size or lower --preread-max");
        }
        return new PrereadLimits(prereadMax, timeout, ssh);
    }

    private static int millis(String option, String v) {
        try {
            return OptionValues.millis(v);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option + ": " + e.getMessage());
        }
    }
}
