package org.epollproxy.forward.tls;

import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * How one listener terminates TLS: its certificates (the first is the default, the others chosen by the
 * client's SNI), the ALPN protocols it offers, whether it asks for client certificates and against which CA,
 * and the handshake deadline. The files are read at start and again on SIGHUP ({@link #reload}, or
 * {@link #stage} and {@link #commit} with a config file): new clients get the new certificates, open
 * connections keep their sessions, and a file that fails to load leaves what was loaded before in place. The
 * object, its {@link TlsMetrics} and its {@link SSLContext} (the session cache, the TLS 1.3 ticket keys) live
 * across reloads.
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
    private final List<String> alpn;
    private final ClientAuth clientAuth;
    private final int handshakeTimeoutMs;
    private final TlsMetrics metrics;
    /** The certificates, replaced in place by a reload: the context, its session cache and ticket keys live on. */
    private final SniKeyManager keys;
    /** Protocols, suites and client-certificate policy, worked out once: each engine takes a copy. */
    private final SSLParameters parameters;
    /** The first of ours that the client offers; none in common: no ALPN at all (not a failed handshake). Null: no ALPN. */
    private final BiFunction<SSLEngine, List<String>, String> alpnSelector;
    private volatile State state;

    /** The files in use, the client CAs read from them, and the context new engines come from. */
    private record State(List<CertFiles> certs, Path clientCa, List<X509Certificate> ca, SSLContext context) {}

    /** Files read and checked by {@link #stage}, not in use until {@link #commit}. */
    public static final class Staged {
        private final List<CertFiles> certs;
        private final Path clientCa;
        private final List<SniKeyManager.Entry> entries;
        private final List<X509Certificate> ca;

        private Staged(List<CertFiles> certs, Path clientCa, List<SniKeyManager.Entry> entries, List<X509Certificate> ca) {
            this.certs = List.copyOf(certs);
            this.clientCa = clientCa;
            this.entries = entries;
            this.ca = ca;
        }
    }

    /** {@code label}: the listener as messages name it ("127.0.0.1:8443"). Reads the files: {@link PemFiles.BadPem} if one is bad. */
    public TlsServer(String label, List<CertFiles> certs, List<String> alpn, Path clientCa, ClientAuth clientAuth,
            int handshakeTimeoutMs) throws PemFiles.BadPem {
        this(label, certs, alpn, clientCa, clientAuth, handshakeTimeoutMs, null);
    }

    /** As above; {@code carried}: the counters of the listener's TLS before a reload changed its setup (null: new ones). */
    public TlsServer(String label, List<CertFiles> certs, List<String> alpn, Path clientCa, ClientAuth clientAuth,
            int handshakeTimeoutMs, TlsMetrics carried) throws PemFiles.BadPem {
        if (certs.isEmpty()) throw new IllegalArgumentException("a TLS listener needs a certificate");
        this.label = label;
        this.alpn = List.copyOf(alpn);
        this.clientAuth = clientCa == null ? ClientAuth.NONE : clientAuth;
        this.handshakeTimeoutMs = handshakeTimeoutMs;
        this.metrics = carried != null ? carried : new TlsMetrics();
        Staged s = stage(certs, clientCa);
        this.keys = new SniKeyManager(s.entries);
        SSLContext ctx = context(s.ca);
        this.state = new State(s.certs, clientCa, s.ca, ctx);
        this.parameters = parameters(ctx);
        this.alpnSelector = this.alpn.isEmpty() ? null : (engine, offered) -> {
            for (String a : this.alpn) if (offered.contains(a)) return a;
            return "";
        };
    }

    /** Reads and checks {@code certs} and the CA file (null: none); nothing changes until {@link #commit}. */
    public Staged stage(List<CertFiles> certs, Path clientCa) throws PemFiles.BadPem {
        List<SniKeyManager.Entry> entries = new ArrayList<>();
        for (CertFiles f : certs) {
            List<X509Certificate> chain = PemFiles.certificates(f.cert());
            PrivateKey key = PemFiles.privateKey(f.key());
            PemFiles.checkPair(chain.get(0), key, f.key());
            entries.add(new SniKeyManager.Entry(chain.toArray(new X509Certificate[0]), key, SniKeyManager.dnsNames(chain.get(0))));
        }
        return new Staged(certs, clientCa, entries, clientCa == null ? null : PemFiles.certificates(clientCa));
    }

    private SSLContext context(List<X509Certificate> ca) throws PemFiles.BadPem {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(new KeyManager[] {keys}, ca == null ? null : trustManagers(ca), null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new PemFiles.BadPem(label + ": TLS setup failed: " + e.getMessage());
        }
    }

    private SSLParameters parameters(SSLContext ctx) {
        SSLEngine sample = ctx.createSSLEngine();
        SSLParameters p = sample.getSSLParameters();
        p.setProtocols(PROTOCOLS);
        p.setCipherSuites(supported(sample.getSupportedCipherSuites()));
        p.setUseCipherSuitesOrder(true);
        if (clientAuth == ClientAuth.REQUIRE) p.setNeedClientAuth(true);
        else if (clientAuth == ClientAuth.REQUEST) p.setWantClientAuth(true);
        return p;
    }

    /**
     * Puts staged files in use: new clients get the new certificates; open connections keep their sessions;
     * sessions made before stay resumable (the context lives on), unless the client CAs changed: then a new
     * context drops them, so no client resumes past a CA it would no longer pass. Returns one log line per
     * certificate or CA file that changed (none if the files hold what was in use).
     */
    public synchronized List<String> commit(Staged s) {
        State old = state;
        List<String> lines = new ArrayList<>();
        List<SniKeyManager.Entry> before = keys.entries();
        boolean certsChanged = before.size() != s.entries.size();
        for (int i = 0; i < s.entries.size(); i++) {
            X509Certificate now = s.entries.get(i).chain()[0];
            if (i < before.size() && sameChain(before.get(i), s.entries.get(i))) continue;
            certsChanged = true;
            lines.add("tls: reloaded certificate for " + label + ": " + now.getSubjectX500Principal().getName() + ", not after "
                    + now.getNotAfter().toInstant());
        }
        if (certsChanged) keys.replace(s.entries);
        SSLContext ctx = old.context();
        if (!java.util.Objects.equals(old.ca(), s.ca)) {
            try {
                ctx = context(s.ca);
                lines.add("tls: reloaded client CA for " + label + ": " + s.ca.size() + " certificate(s) from " + s.clientCa
                        + "; sessions made before cannot resume");
            } catch (PemFiles.BadPem e) {
                lines.add("tls: " + e.getMessage() + "; keeping the client CA loaded before");
                state = new State(s.certs, old.clientCa(), old.ca(), ctx);
                return lines;
            }
        }
        state = new State(s.certs, s.clientCa, s.ca, ctx);
        return lines;
    }

    private static boolean sameChain(SniKeyManager.Entry a, SniKeyManager.Entry b) {
        return java.util.Arrays.equals(a.chain(), b.chain()) && a.key().equals(b.key());
    }

    /** Trust managers that accept certificates issued by the CAs in {@code caFile}. */
    static TrustManager[] trustManagers(Path caFile) throws PemFiles.BadPem, GeneralSecurityException {
        return trustManagers(PemFiles.certificates(caFile));
    }

    static TrustManager[] trustManagers(List<X509Certificate> cas) throws GeneralSecurityException {
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        try {
            ks.load(null, null);
        } catch (java.io.IOException e) {
            throw new GeneralSecurityException(e);
        }
        int i = 0;
        for (X509Certificate c : cas) ks.setCertificateEntry("ca" + i++, c);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        return tmf.getTrustManagers();
    }

    /**
     * SIGHUP without a config file: reads the files in use again and puts them in use. Returns the lines for
     * the log: what changed (or that nothing did), or why the certificates loaded before stay.
     */
    public List<String> reload() {
        State now = state;
        try {
            List<String> lines = commit(stage(now.certs(), now.clientCa()));
            return lines.isEmpty() ? List.of("tls: " + label + ": certificates read again, unchanged") : lines;
        } catch (PemFiles.BadPem e) {
            return List.of("tls: " + label + ": " + e.getMessage() + "; keeping the certificates loaded before");
        }
    }

    /**
     * True if a config reload can keep this object for a listener set up so: the same ALPN, client-certificate
     * policy, deadline and number of certificates (what its listening line shows); the files are then
     * {@link #stage}d and {@link #commit}ted into it.
     */
    public boolean sameSetup(int certCount, List<String> alpn, Path clientCa, ClientAuth auth, int handshakeTimeoutMs) {
        ClientAuth a = clientCa == null ? ClientAuth.NONE : auth;
        return certCount == state.certs().size() && this.alpn.equals(alpn) && a == clientAuth && handshakeTimeoutMs == this.handshakeTimeoutMs;
    }

    /** A server engine for one client, with this listener's protocols, suites, ALPN and client-certificate policy. */
    public SSLEngine newEngine() {
        SSLEngine e = state.context().createSSLEngine();
        e.setUseClientMode(false);
        e.setSSLParameters(parameters);
        if (alpnSelector != null) e.setHandshakeApplicationProtocolSelector(alpnSelector);
        return e;
    }

    /** More than one certificate: which one a handshake gets depends on the name the client asks for. */
    public boolean choosesByName() {
        return state.certs().size() > 1;
    }

    /**
     * The name the ClientHello on {@code e} (one of this server's engines) asks for, read before the engine
     * reads it: on JDK 25 a session ticket's certificate is checked before the engine knows the name, and
     * without it a ticket made with the certificate of that name would be checked against the default.
     */
    public void nameAsked(SSLEngine e, String name) {
        keys.nameAsked(e, name);
    }

    /**
     * After a finished handshake on {@code e} (one of this server's engines): whether it resumed an earlier
     * session (TLS 1.2 session ID or ticket, TLS 1.3 PSK ticket) instead of a full handshake, which is the only
     * kind that asks for the server's certificate. Call once per handshake.
     */
    public boolean resumed(SSLEngine e) {
        return !keys.tookFullHandshake(e);
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
        int n = state.certs().size();
        return "tls(" + n + " cert" + (n == 1 ? "" : "s") + (alpn.isEmpty() ? "" : ", alpn " + String.join(",", alpn))
                + (clientAuth == ClientAuth.NONE ? "" : ", client certs " + clientAuth.name().toLowerCase(java.util.Locale.ROOT)) + ")";
    }
}
