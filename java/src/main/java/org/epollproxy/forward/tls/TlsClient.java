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
    private final Path caFile;
    private final TlsServer.CertFiles clientCert;
    private volatile SSLContext context;
    private final TlsMetrics metrics = new TlsMetrics();

    public TlsMetrics metrics() {
        return metrics;
    }

    /** {@code serverName}: the name to send and check, null for each backend's own host name. */
    public TlsClient(String label, String serverName, Path caFile, TlsServer.CertFiles clientCert) throws PemFiles.BadPem {
        this.label = label;
        this.serverName = serverName;
        this.caFile = caFile;
        this.clientCert = clientCert;
        this.context = load();
    }

    private SSLContext load() throws PemFiles.BadPem {
        try {
            KeyManager[] km = null;
            if (clientCert != null) {
                List<X509Certificate> chain = PemFiles.certificates(clientCert.cert());
                PrivateKey key = PemFiles.privateKey(clientCert.key());
                PemFiles.checkPair(chain.get(0), key, clientCert.key());
                km = new KeyManager[] {new SniKeyManager(List.of(new SniKeyManager.Entry(chain.toArray(new X509Certificate[0]), key, List.of())))};
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(km, caFile == null ? null : TlsServer.trustManagers(caFile), null); // null: the JDK's trust store
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new PemFiles.BadPem(label + ": TLS setup failed: " + e.getMessage());
        }
    }

    public String reload() {
        try {
            context = load();
            return "backend TLS " + label + ": reloaded" + (caFile != null ? " CA " + caFile : "") + (clientCert != null ? " and client certificate" : "");
        } catch (PemFiles.BadPem e) {
            return "backend TLS " + label + ": " + e.getMessage() + "; keeping the files loaded before";
        }
    }

    /** A client engine for a backend named {@code host} (a name or a numeric address) at {@code port}. */
    public SSLEngine newEngine(String host, int port) {
        String name = serverName != null ? serverName : host;
        SSLEngine e = context.createSSLEngine(name, port);
        e.setUseClientMode(true);
        SSLParameters p = e.getSSLParameters();
        p.setProtocols(TlsServer.PROTOCOLS);
        p.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name the backend
        if (name != null && !name.isEmpty() && !Character.isDigit(name.charAt(name.length() - 1)) && !name.contains(":")) {
            p.setServerNames(List.of(new SNIHostName(name))); // SNI is for names only, never an address
        }
        e.setSSLParameters(p);
        return e;
    }

    @Override
    public String toString() {
        return "backend-tls" + (serverName != null ? "(" + serverName + ")" : "");
    }
}
