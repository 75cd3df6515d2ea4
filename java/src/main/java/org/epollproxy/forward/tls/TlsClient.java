package org.epollproxy.forward.tls;

import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/**
 * How one forward reaches its backends over TLS (the stunnel client case: a plain client in, TLS out): the
 * backend's certificate is verified against the system trust store or a given CA file, and its name against
 * the backend's host name as the forward gives it (or {@code serverName}), which is also sent as SNI. An
 * optional client certificate for backends that require one. Reloaded as {@link TlsServer} is.
 */
public final class TlsClient {
    private final String label;
    private final String serverName;
    private final TlsMetrics metrics;
    private volatile State state;

    /** The files in use, what was read from them, and the context new engines come from. */
    private record State(Path caFile, TlsServer.CertFiles clientCert, List<X509Certificate> ca, List<X509Certificate> chain,
            PrivateKey key, SSLContext context) {}

    /** Files read and checked by {@link #stage}, not in use until {@link #commit}. */
    public static final class Staged {
        private final State state;

        private Staged(State state) {
            this.state = state;
        }
    }

    public TlsMetrics metrics() {
        return metrics;
    }

    /** {@code serverName}: the name to send and check, null for each backend's own host name. */
    public TlsClient(String label, String serverName, Path caFile, TlsServer.CertFiles clientCert) throws PemFiles.BadPem {
        this(label, serverName, caFile, clientCert, null);
    }

    /** As above; {@code carried}: the counters from before a reload that changed the name (null: new ones). */
    public TlsClient(String label, String serverName, Path caFile, TlsServer.CertFiles clientCert, TlsMetrics carried) throws PemFiles.BadPem {
        this.label = label;
        this.serverName = serverName;
        this.metrics = carried != null ? carried : new TlsMetrics();
        this.state = stage(caFile, clientCert).state;
    }

    /** Reads and checks the files; nothing changes until {@link #commit}. */
    public Staged stage(Path caFile, TlsServer.CertFiles clientCert) throws PemFiles.BadPem {
        try {
            KeyManager[] km = null;
            List<X509Certificate> chain = null;
            PrivateKey key = null;
            if (clientCert != null) {
                chain = PemFiles.certificates(clientCert.cert());
                key = PemFiles.privateKey(clientCert.key());
                PemFiles.checkPair(chain.get(0), key, clientCert.key());
                km = new KeyManager[] {new SniKeyManager(List.of(new SniKeyManager.Entry(chain.toArray(new X509Certificate[0]), key, List.of())))};
            }
            List<X509Certificate> ca = caFile == null ? null : PemFiles.certificates(caFile);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(km, ca == null ? null : TlsServer.trustManagers(ca), null); // null: the JDK's trust store
            return new Staged(new State(caFile, clientCert, ca, chain, key, ctx));
        } catch (GeneralSecurityException e) {
            throw new PemFiles.BadPem(label + ": TLS setup failed: " + e.getMessage());
        }
    }

    /**
     * Puts {@code staged} (from {@link #stage}) in use if its files hold anything new; the context (and its
     * sessions with the backends) stays otherwise. Returns a log line if something changed, else null.
     */
    public synchronized String commit(Staged staged) {
        State s = staged.state;
        State old = state;
        boolean same = java.util.Objects.equals(old.ca(), s.ca()) && java.util.Objects.equals(old.chain(), s.chain())
                && java.util.Objects.equals(old.key(), s.key());
        if (same) {
            state = new State(s.caFile(), s.clientCert(), old.ca(), old.chain(), old.key(), old.context());
            return null;
        }
        state = s;
        return "backend tls: reloaded " + (s.caFile() != null ? "CA " + s.caFile() : "trust") + (s.clientCert() != null ? " and client certificate" : "")
                + " for " + label + "; new connections use them";
    }

    /** SIGHUP without a config file: the files in use read again; the line for the log. */
    public String reload() {
        State now = state;
        try {
            String line = commit(stage(now.caFile(), now.clientCert()));
            return line != null ? line : "backend tls: " + label + ": files read again, unchanged";
        } catch (PemFiles.BadPem e) {
            return "backend tls: " + label + ": " + e.getMessage() + "; keeping the files loaded before";
        }
    }

    /** True if a config reload can keep this object (and its counters) for a forward with this backend name. */
    public boolean sameSetup(String serverName) {
        return java.util.Objects.equals(this.serverName, serverName);
    }

    /** A client engine for a backend named {@code host} (a name or a numeric address) at {@code port}. */
    public SSLEngine newEngine(String host, int port) {
        String name = serverName != null ? serverName : host;
        SSLEngine e = state.context().createSSLEngine(name, port);
        e.setUseClientMode(true);
        e.setSSLParameters(parametersFor(name == null ? "" : name));
        return e;
    }

    /** The engine parameters for one backend name, worked out once per name (a forward has a few), not per connection. */
    private final java.util.concurrent.ConcurrentHashMap<String, SSLParameters> parameters = new java.util.concurrent.ConcurrentHashMap<>();

    private SSLParameters parametersFor(String name) {
        SSLParameters known = parameters.get(name);
        if (known != null) return known;
        SSLParameters p = state.context().createSSLEngine().getSSLParameters();
        p.setProtocols(TlsServer.PROTOCOLS);
        p.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name the backend
        if (!name.isEmpty() && !Character.isDigit(name.charAt(name.length() - 1)) && !name.contains(":")) {
            try {
                p.setServerNames(List.of(new SNIHostName(name))); // SNI is for names only, never an address
            } catch (IllegalArgumentException e) {
                // Not a name SNI can carry (an underscore, as container names have): none sent; the certificate is still checked against it.
            }
        }
        if (parameters.size() < 1024) parameters.put(name, p); // bounded: backend names come from the configuration
        return p;
    }

    @Override
    public String toString() {
        return "backend-tls" + (serverName != null ? "(" + serverName + ")" : "");
    }
}
