package org.epollproxy.cli;

import java.net.InetAddress;
import java.net.UnknownHostException;
import org.epollproxy.shim.SockAddr;

/**
 * Turns host names into addresses, once, at start (and on reload): the loop never blocks on DNS.
 * A name is resolved to its first address here (the JDK's order, or --resolver's); the runtime's
 * Reresolver then makes every address of a backend name a backend (from the answer got here, not a second
 * query), and keeps them current.
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

    /**
     * Every address each backend name had when it was resolved here, since the last {@link #takeAnswers}:
     * the Reresolver starts a name from this answer instead of asking the DNS server again at once.
     */
    private static final java.util.Map<String, java.util.List<InetAddress>> answers = new java.util.concurrent.ConcurrentHashMap<>();

    /** The answers since the last call (name to every address), forgotten here. */
    static java.util.Map<String, java.util.List<InetAddress>> takeAnswers() {
        java.util.Map<String, java.util.List<InetAddress>> out = new java.util.HashMap<>(answers);
        answers.keySet().removeAll(out.keySet());
        return out;
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
                answers.put(host, java.util.List.copyOf(all));
                return SockAddr.of(all.get(0), port);
            } catch (org.epollproxy.dns.DnsClient.DnsException e) {
                throw new ResolveException("cannot resolve host \"" + host + "\" in " + source + ": " + e.getMessage());
            }
        }
        try {
            if (host.equalsIgnoreCase("localhost")) return SockAddr.of(InetAddress.getByName("127.0.0.1"), port);
            InetAddress[] all = InetAddress.getAllByName(host); // getByName's first address is this list's first
            if (org.epollproxy.runtime.Reresolver.isName(host)) answers.put(host, java.util.List.of(all));
            return SockAddr.of(all[0], port);
        } catch (UnknownHostException | SecurityException e) {
            throw new ResolveException("cannot resolve host \"" + host + "\" in " + source);
        }
    }

    private Resolver() {}
}
