package org.epollproxy.config;

import java.util.List;

/**
 * A parsed config file: forwarding rules, global access rules (the allow/deny lines before the first
 * rule), and rinetd's logging directives.
 *
 * @param logFile {@code logfile PATH}, or null
 * @param logCommon {@code logcommon}: Apache-style lines instead of tab-separated ones
 * @param pidFile {@code pidlogfile PATH}, or null
 * @param dynamic {@code resolver}, {@code resolve_interval}, {@code slow_start} (our extensions)
 * @param tls the TLS lines ({@code tls-cert 0.0.0.0 443 CERT KEY}...) as the command-line options they stand for:
 *     {option, value} pairs such as {"--tls-cert", "0.0.0.0:443:CERT:KEY"}
 */
public record Config(String file, List<Rule> rules, List<String> allow, List<String> deny, String logFile,
        boolean logCommon, String pidFile, DynamicOptions dynamic, List<String[]> tls) {

    public Config(String file, List<Rule> rules, List<String> allow, List<String> deny, String logFile, boolean logCommon,
            String pidFile) {
        this(file, rules, allow, deny, logFile, logCommon, pidFile, DynamicOptions.NONE, List.of());
    }

    public Config(String file, List<Rule> rules, List<String> allow, List<String> deny, String logFile, boolean logCommon,
            String pidFile, DynamicOptions dynamic) {
        this(file, rules, allow, deny, logFile, logCommon, pidFile, dynamic, List.of());
    }

    public Config {
        rules = List.copyOf(rules);
        allow = List.copyOf(allow);
        deny = List.copyOf(deny);
        tls = List.copyOf(tls);
    }
}
