package org.epollproxy.forward;

import org.epollproxy.shim.SockAddr;

/**
 * One backend of a forward: the host as the user wrote it, the address it resolved to at start, and its
 * weight for the weighted policies (roundrobin, leastconn, source; 1 by default).
 */
public final class Backend {
    /** The largest weight accepted (haproxy's limit too). */
    public static final int MAX_WEIGHT = 256;

    private final String host;
    private final SockAddr address;
    private final int weight;

    public Backend(String host, SockAddr address) {
        this(host, address, 1);
    }

    public Backend(String host, SockAddr address, int weight) {
        if (weight < 1 || weight > MAX_WEIGHT) throw new IllegalArgumentException("weight " + weight + " is out of range 1-" + MAX_WEIGHT);
        this.host = host;
        this.address = address;
        this.weight = weight;
    }

    public int weight() {
        return weight;
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
