package org.epollproxy.config;

/**
 * The config file's lines for backends that move, each null when the file does not set it (the command
 * line's value, or the default, applies then). Read at start; a reload does not change them.
 *
 * <pre>
 *   resolver IP[:PORT]          the DNS server asked for backend names (--resolver)
 *   resolve_interval DURATION   how often they are re-resolved (--resolve-interval)
 *   slow_start DURATION         a backend coming back takes a growing share (--slow-start)
 * </pre>
 */
public record DynamicOptions(String resolver, Integer resolveIntervalMs, Integer slowStartMs) {
    public static final DynamicOptions NONE = new DynamicOptions(null, null, null);

    /** The shortest resolve_interval (as --resolve-interval's floor). */
    public static final int MIN_INTERVAL_MS = 1000;
}
