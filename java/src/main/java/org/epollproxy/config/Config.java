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
 */
public record Config(String file, List<Rule> rules, List<String> allow, List<String> deny, String logFile,
        boolean logCommon, String pidFile, DynamicOptions dynamic) {

    public Config(String file, List<Rule> rules, List<String> allow, List<String> deny, String logFile, boolean logCommon,
            String pidFile) {
        this(file, rules, allow, deny, logFile, logCommon, pidFile, DynamicOptions.NONE);
    }

    public Config {
        rules = List.copyOf(rules);
        allow = List.copyOf(allow);
        deny = List.copyOf(deny);
    }
}
