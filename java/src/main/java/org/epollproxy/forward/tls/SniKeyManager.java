package org.epollproxy.forward.tls;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.WeakHashMap;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * The server's certificates of one TLS listener, chosen per handshake by the name the client asked for (SNI):
 * the first certificate whose DNS names (subjectAltName, else the subject's CN) cover it, a wildcard
 * {@code *.example.com} covering one label; otherwise, or without SNI, the first certificate (the default).
 * Also used as the client's own certificate when originating TLS ({@link #chooseEngineClientAlias}).
 *
 * <p>A reload {@link #replace}s the certificates in place, so the SSLContext (and with it the session cache
 * and the TLS 1.3 ticket keys) lives on. The alias of certificate i is "G.i", G the generation of the list it
 * came from: the JDK asks for the chain and key by alias just after choosing it, and a reload in between must
 * not give it the key of another certificate. The list before the last reload is kept for that moment.
 *
 * <p>A full handshake is the only one that asks for the server's certificate with a handshake session under
 * way, so the engines that asked so are noted ({@link #tookFullHandshake}): a finished handshake whose engine
 * never did resumed a session. Not in a session value: a session with values bound cannot become a stateless
 * ticket, and nothing could resume.
 */
final class SniKeyManager extends X509ExtendedKeyManager {
    /** One certificate chain, its key, and the names it serves (lower case). */
    record Entry(X509Certificate[] chain, PrivateKey key, List<String> names) {}

    /** Engines whose handshake chose a certificate and has not been counted yet (weak: a failed one is just forgotten). */
    private final Map<SSLEngine, Boolean> full = Collections.synchronizedMap(new WeakHashMap<>());
    /** Engines whose client asked for a name, as TlsChannel read it from the ClientHello (weak, as {@code full}). */
    private final Map<SSLEngine, String> asked = Collections.synchronizedMap(new WeakHashMap<>());

    /** One list of certificates as a reload left it, numbered, with its aliases made once (not per handshake). */
    private record Generation(int id, List<Entry> entries, String[] aliases) {
        Generation(int id, List<Entry> entries) {
            this(id, List.copyOf(entries), new String[entries.size()]);
            for (int i = 0; i < aliases.length; i++) aliases[i] = id + "." + i;
        }
    }

    private volatile Generation current;
    private volatile Generation previous;

    SniKeyManager(List<Entry> entries) {
        this.current = new Generation(0, entries);
        this.previous = current;
    }

    /** Reload: new handshakes choose from {@code entries}; those choosing right now still get what they chose. */
    synchronized void replace(List<Entry> entries) {
        previous = current;
        current = new Generation(current.id() + 1, entries);
    }

    /** Whether {@code engine}'s handshake was a full one (it chose a certificate); forgets it. Once per handshake. */
    boolean tookFullHandshake(SSLEngine engine) {
        asked.remove(engine);
        return full.remove(engine) != null;
    }

    List<Entry> entries() {
        return current.entries();
    }

    static List<String> dnsNames(X509Certificate c) {
        List<String> out = new ArrayList<>();
        try {
            if (c.getSubjectAlternativeNames() != null) {
                for (List<?> san : c.getSubjectAlternativeNames()) {
                    if (Integer.valueOf(2).equals(san.get(0))) out.add(san.get(1).toString().toLowerCase(Locale.ROOT));
                }
            }
        } catch (CertificateParsingException e) {
            // no usable SAN: the CN below
        }
        if (out.isEmpty()) {
            for (String part : c.getSubjectX500Principal().getName().split(",")) {
                if (part.startsWith("CN=")) out.add(part.substring(3).toLowerCase(Locale.ROOT));
            }
        }
        return out;
    }

    static boolean covers(String pattern, String name) {
        if (pattern.equals(name)) return true;
        if (!pattern.startsWith("*.")) return false;
        int dot = name.indexOf('.');
        return dot > 0 && name.substring(dot).equals(pattern.substring(1));
    }

    /**
     * The alias for {@code keyType} serving {@code sni} (null: none asked), or null if none fits. The JDK asks
     * once per key type the client accepts, in the client's order, and takes the first alias it gets; so a
     * certificate of another type that fits better makes this return null. Best: the first certificate whose
     * names cover {@code sni}; without one, the first certificate (the default), unless the client cannot
     * verify its key type ({@code clientCan}: false), then the first certificate of a type it can.
     */
    String aliasFor(String keyType, String sni, java.util.function.Predicate<String> clientCan) {
        Generation g = current;
        List<Entry> entries = g.entries();
        if (sni != null) {
            for (int i = 0; i < entries.size(); i++) {
                Entry e = entries.get(i);
                for (String n : e.names()) {
                    if (covers(n, sni) && clientCan.test(e.key().getAlgorithm())) return e.key().getAlgorithm().equals(keyType) ? g.aliases()[i] : null;
                }
            }
        }
        for (int i = 0; i < entries.size(); i++) {
            String alg = entries.get(i).key().getAlgorithm();
            if (clientCan.test(alg)) return alg.equals(keyType) ? g.aliases()[i] : null;
        }
        return null;
    }

    String aliasFor(String keyType, String sni) {
        return aliasFor(keyType, sni, alg -> alg.equals(keyType));
    }

    /** Which key types the client can verify, from the signature algorithms it sent (all, if it sent none). */
    static java.util.function.Predicate<String> clientCan(SSLEngine engine) {
        SSLSession s = engine == null ? null : engine.getHandshakeSession();
        String[] algs = s instanceof ExtendedSSLSession es ? es.getPeerSupportedSignatureAlgorithms() : new String[0];
        if (algs.length == 0) return alg -> true;
        return alg -> {
            String want = alg.equals("EC") ? "ECDSA" : alg.equals("RSA") ? "RSA" : alg.toUpperCase(Locale.ROOT);
            for (String a : algs) if (containsIgnoringCase(a, want)) return true;
            return false;
        };
    }

    /** {@code s} contains {@code part} (ASCII, any case), without an upper-case copy of {@code s} per test. */
    static boolean containsIgnoringCase(String s, String part) {
        for (int i = 0; i + part.length() <= s.length(); i++) if (s.regionMatches(true, i, part, 0, part.length())) return true;
        return false;
    }

    static String requestedName(SSLEngine engine) {
        SSLSession s = engine == null ? null : engine.getHandshakeSession();
        if (!(s instanceof ExtendedSSLSession es)) return null;
        for (SNIServerName n : es.getRequestedServerNames()) {
            if (n instanceof SNIHostName h) return h.getAsciiName().toLowerCase(Locale.ROOT);
        }
        return null;
    }

    /** The name {@code engine}'s client asked for in its ClientHello, for a ticket's check before the engine has read it. */
    void nameAsked(SSLEngine engine, String name) {
        asked.put(engine, name);
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        // JDK 25 asks here too when it resumes a session from a ticket (JDK-8357033: a ticket names the server's
        // certificate by checksum only, and the JDK checks it is still the one chosen). That is before the
        // handshake has a session, which a full handshake always has by the time it picks its certificate.
        // Without a session the engine cannot say which name the client asked for: the name TlsChannel read
        // from the ClientHello chooses, else the ticket of a certificate other than the default never resumed.
        if (engine != null && engine.getHandshakeSession() != null) {
            full.put(engine, Boolean.TRUE);
            return aliasFor(keyType, requestedName(engine), clientCan(engine));
        }
        return aliasFor(keyType, engine == null ? null : asked.get(engine), clientCan(engine));
    }

    @Override
    public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers, SSLEngine engine) {
        for (String t : keyTypes) {
            String a = aliasFor(t, null);
            if (a != null) return a;
        }
        return null;
    }

    private Entry entry(String alias) {
        int dot = alias == null ? -1 : alias.indexOf('.');
        if (dot <= 0) return null;
        try {
            int id = Integer.parseInt(alias, 0, dot, 10);
            int i = Integer.parseInt(alias, dot + 1, alias.length(), 10);
            Generation g = current;
            if (g.id() != id) g = previous;
            return g.id() == id && i >= 0 && i < g.entries().size() ? g.entries().get(i) : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        Entry e = entry(alias);
        return e == null ? null : e.chain().clone();
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        Entry e = entry(alias);
        return e == null ? null : e.key();
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        String a = aliasFor(keyType, null);
        return a == null ? null : new String[] {a};
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return getServerAliases(keyType, issuers);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return aliasFor(keyType, null);
    }

    @Override
    public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
        return chooseEngineClientAlias(keyTypes, issuers, null);
    }
}
