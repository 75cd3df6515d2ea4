package org.epollproxy.forward.tls;

import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * How one listener terminates TLS: its certificates (the first is the default, the others chosen by the
 * client's SNI), the ALPN protocols it offers, whether it asks for client certificates and against which CA,
 * and the handshake deadline. The files are read into an {@link SSLContext} at start and again by
 * {@link #reload} (SIGHUP): a connection keeps the context its engine came from, new clients get the new one,
 * and a file that fails to load leaves the old context in place.
 */
public final class TlsServer {
    /** Client certificates: not asked for, asked for (a client without one is let in), or required. */
    public enum ClientAuth { NONE, REQUEST, REQUIRE }

    /** One certificate: the PEM file with the chain (server first) and the PEM file with its key. */
    public record CertFiles(Path cert, Path key) {}

    /** TLS 1.2 and 1.3 only: older versions have known attacks and no client worth serving needs them. */
    static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};
    /** AEAD suites with forward secrecy only, the server's order: AES-GCM (hardware) first, then ChaCha20. */
    static final String[] CIPHER_SUITES = {
        "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    };

    static {
        // A client asking the server to renegotiate (TLS 1.2) costs the server a handshake at the client's will.
        if (System.getProperty("jdk.tls.rejectClientInitiatedRenegotiation") == null) {
            System.setProperty("jdk.tls.rejectClientInitiatedRenegotiation", "true");
        }
    }

    private final String label;
    private final List<CertFiles> certs;
    private final List<String> alpn;
    private final Path clientCa;
    private final ClientAuth clientAuth;
    private final int handshakeTimeoutMs;
    private volatile SSLContext context;
    private final TlsMetrics metrics = new TlsMetrics();

    /** {@code label}: the listener as messages name it ("127.0.0.1:8443"). Reads the files: {@link PemFiles.BadPem} if one is bad. */
    public TlsServer(String label, List<CertFiles> certs, List<String> alpn, Path clientCa, ClientAuth clientAuth,
            int handshakeTimeoutMs) throws PemFiles.BadPem {
        if (certs.isEmpty()) throw new IllegalArgumentException("a TLS listener needs a certificate");
        this.label = label;
        this.certs = List.copyOf(certs);
        this.alpn = List.copyOf(alpn);
        this.clientCa = clientCa;
        this.clientAuth = clientCa == null ? ClientAuth.NONE : clientAuth;
        this.handshakeTimeoutMs = handshakeTimeoutMs;
        this.context = load();
    }

    private SSLContext load() throws PemFiles.BadPem {
        List<SniKeyManager.Entry> entries = new ArrayList<>();
        for (CertFiles f : certs) {
            List<X509Certificate> chain = PemFiles.certificates(f.cert());
            PrivateKey key = PemFiles.privateKey(f.key());
            PemFiles.checkPair(chain.get(0), key, f.key());
            entries.add(new SniKeyManager.Entry(chain.toArray(new X509Certificate[0]), key, SniKeyManager.dnsNames(chain.get(0))));
        }
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(new KeyManager[] {new SniKeyManager(entries)}, clientCa == null ? null : trustManagers(clientCa), null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new PemFiles.BadPem(label + ": TLS setup failed: " + e.getMessage());
        }
    }

    /** Trust managers that accept certificates issued by the CAs in {@code caFile}. */
    static TrustManager[] trustManagers(Path caFile) throws PemFiles.BadPem, GeneralSecurityException {
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        try {
            ks.load(null, null);
        } catch (java.io.IOException e) {
            throw new GeneralSecurityException(e);
        }
        int i = 0;
        for (X509Certificate c : PemFiles.certificates(caFile)) ks.setCertificateEntry("ca" + i++, c);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        return tmf.getTrustManagers();
    }

    /**
     * Reads the files again; on success new clients get the new certificates. Returns a line for the log:
     * what was loaded, or why the old certificates stay.
     */
    public String reload() {
        try {
            context = load();
            return "TLS " + label + ": reloaded " + certs.size() + " certificate(s)" + (clientCa != null ? " and client CA " + clientCa : "");
        } catch (PemFiles.BadPem e) {
            return "TLS " + label + ": " + e.getMessage() + "; keeping the certificates loaded before";
        }
    }

    /** A server engine for one client, with this listener's protocols, suites, ALPN and client-certificate policy. */
    public SSLEngine newEngine() {
        SSLEngine e = context.createSSLEngine();
        e.setUseClientMode(false);
        SSLParameters p = e.getSSLParameters();
        p.setProtocols(PROTOCOLS);
        p.setCipherSuites(supported(e.getSupportedCipherSuites()));
        p.setUseCipherSuitesOrder(true);
        if (clientAuth == ClientAuth.REQUIRE) p.setNeedClientAuth(true);
        else if (clientAuth == ClientAuth.REQUEST) p.setWantClientAuth(true);
        e.setSSLParameters(p);
        if (!alpn.isEmpty()) {
            // The first of ours that the client offers; none in common: no ALPN at all (not a failed handshake).
            e.setHandshakeApplicationProtocolSelector((engine, offered) -> {
                for (String a : alpn) if (offered.contains(a)) return a;
                return "";
            });
        }
        return e;
    }

    private static String[] supported(String[] available) {
        List<String> have = List.of(available);
        List<String> out = new ArrayList<>();
        for (String s : CIPHER_SUITES) if (have.contains(s)) out.add(s);
        return out.toArray(new String[0]);
    }

    public int handshakeTimeoutMs() {
        return handshakeTimeoutMs;
    }

    public ClientAuth clientAuth() {
        return clientAuth;
    }

    public TlsMetrics metrics() {
        return metrics;
    }

    public String label() {
        return label;
    }

    @Override
    public String toString() {
        return "tls(" + certs.size() + " cert" + (certs.size() == 1 ? "" : "s") + (alpn.isEmpty() ? "" : ", alpn " + String.join(",", alpn))
                + (clientAuth == ClientAuth.NONE ? "" : ", client certs " + clientAuth.name().toLowerCase(java.util.Locale.ROOT)) + ")";
    }
}
