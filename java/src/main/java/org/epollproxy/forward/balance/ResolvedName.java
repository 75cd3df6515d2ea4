package org.epollproxy.forward.balance;

/**
 * One backend name that is re-resolved while the proxy runs, as /metrics shows it: a copy.
 *
 * @param addresses the addresses in use now (the last good answer)
 * @param failures resolutions that failed or came back empty (the last good set was kept)
 * @param changes resolutions that changed the set of addresses
 * @param problem why the last resolution failed, or null if it succeeded
 */
public record ResolvedName(String name, int addresses, long failures, long changes, String problem) {}
