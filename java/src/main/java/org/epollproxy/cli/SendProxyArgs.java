package org.epollproxy.cli;

import org.epollproxy.forward.ProxyProtocol;
import picocli.CommandLine.Option;

/**
 * {@code --send-proxy} (a picocli mixin of {@link Main}): the PROXY protocol header every -L and --route
 * backend connection starts with. The header accepted from clients is {@link ClientArgs}' --accept-proxy.
 */
final class SendProxyArgs {

    @Option(names = "--send-proxy", paramLabel = "v1|v2",
            description = "Start every backend connection with a PROXY protocol header naming the real client "
                    + "(v1 text, v2 binary); the backend must expect it. Off by default; e.g. --send-proxy v2.")
    String sendProxy;

    /** The header to send: OFF when the option is not given; IllegalArgumentException for a bad version. */
    ProxyProtocol protocol() {
        return sendProxy == null ? ProxyProtocol.OFF : ProxyProtocol.parse(sendProxy);
    }
}
