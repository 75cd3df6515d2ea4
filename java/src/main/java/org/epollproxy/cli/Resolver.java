package org.epollproxy.cli;

import java.net.InetAddress;
import java.net.UnknownHostException;
import org.epollproxy.shim.SockAddr;

/**
 * Turns host names into addresses, once, at start (and on reload): the loop never blocks on DNS.
 * A name is resolved to its first address here (the JDK's order, or --resolver's); the runtime's
 * Reresolver then makes every address of a backend name a backend, and keeps them current.
 */
public final class Resolver {

    /** Thrown when a name does not resolve; the message names the host and the argument. */
    public static final class ResolveException extends Exception {
        ResolveException(String message) {
            super(message);
        }
    }

    /** null (omitted) = loopback as in ssh; "" = all interfaces. */
    static String bindHost(String h) {
        if (h == null) return "127.0.0.1";
        if (h.isEmpty()) return "0.0.0.0";
        return h;
    }

    /** --resolver: names are looked up there instead of through the system's resolver (null: the system's). */
    private static volatile org.epollproxy.dns.DnsClient nameServer;

    static void useNameServer(org.epollproxy.dns.DnsClient c) {
        nameServer = c;
    }

    public static SockAddr address(String host, int port, String source) throws ResolveException {
        if (org.epollproxy.config.ForwardSpec.isPath(host)) {
            try {
                return SockAddr.unix(host); // a UNIX socket path: nothing to resolve
            } catch (IllegalArgumentException e) {
                throw new ResolveException(e.getMessage() + " in " + source);
            }
        }
        org.epollproxy.dns.DnsClient dns = nameServer;
        if (dns != null && org.epollproxy.runtime.Reresolver.isName(host)) {
            try {
                java.util.List<InetAddress> all = dns.lookup(host);
                if (all.isEmpty()) throw new ResolveException("cannot resolve host \"" + host + "\" in " + source + ": no address from --resolver");
                return SockAddr.of(all.get(0), port);
            } catch (org.epollproxy.dns.DnsClient.DnsException e) {
                throw new ResolveException("cannot resolve host \"" + host + "\" in " + source + ": " + e.getMessage());
            }
        }
        try {
            InetAddress ip = host.equalsIgnoreCase("localhost") ? InetAddress.getByName("127.0.0.1") : InetAddress.getByName(host);
            return SockAddr.of(ip, port);
        } catch (UnknownHostException | SecurityException e) {
            throw new ResolveException("cannot resolve host \"" + host + "\" in " + source);
        }
    }

    private Resolver() {}
}
