package org.epollproxy.forward.balance;

/**
 * One backend of one forward as /metrics and /backends show it: a copy, taken on any thread.
 *
 * @param forward the forward's listening address
 * @param policy the forward's balance policy
 * @param downReason null when up; "failures" (passive), "failures (being retried)" or "checks"
 * @param open connections assigned to the backend now, over every loop
 * @param lastCheckMillis wall-clock time of the last active check, 0 if none
 * @param lastCheck "passed" or "failed: why"; null if none
 * @param lastFailureMillis wall-clock time of the last failed connect or check, 0 if none
 * @param lastFailure why it failed ("connection refused", "check: connect timeout"...); null if never
 * @param admin what the operator set: "ready", "drain" or "disabled" ({@code epoll-proxy ctl})
 * @param name the host name the address came from, or null for a backend given by address
 * @param lastSeenMillis wall-clock time a resolution of {@code name} last returned this address, 0 if none
 */
public record BackendInfo(String forward, String proto, String policy, String backend, int weight, boolean up,
        String downReason, int open, long connects, long failures, boolean checksOn, long checks, long checkFailures,
        long transitions, long lastCheckMillis, String lastCheck, long lastFailureMillis, String lastFailure, String admin, String name, long lastSeenMillis) {}
