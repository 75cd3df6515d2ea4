package org.epollproxy.forward.balance;

/**
 * What the operator says about a backend at run time ({@code epoll-proxy ctl}), on top of what health
 * checking says: only a {@link #READY} backend that is up gets new clients. Neither of the others cuts
 * open connections (only {@code disable --reset} does, once, when asked).
 */
public enum AdminState {
    /** Gets new clients while health says up. */
    READY,
    /** No new clients; open connections finish; health checks go on (so /backends shows the health). */
    DRAIN,
    /** Maintenance: no new clients; open connections finish unless reset; health checks go on. */
    DISABLED;

    public String text() {
        return this == READY ? "ready" : this == DRAIN ? "drain" : "disabled";
    }
}
