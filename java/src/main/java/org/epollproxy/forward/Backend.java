package org.epollproxy.forward;

import org.epollproxy.shim.SockAddr;

/** One backend of a forward: the host as the user wrote it, and the address it resolved to at start. */
public final class Backend {
    private final String host;
    private final SockAddr address;

    public Backend(String host, SockAddr address) {
        this.host = host;
        this.address = address;
    }

    public String host() {
        return host;
    }

    public SockAddr address() {
        return address;
    }

    @Override
    public String toString() {
        return address.toString();
    }
}
