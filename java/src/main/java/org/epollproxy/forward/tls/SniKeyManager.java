package org.epollproxy.forward.tls;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
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
 * The alias of certificate i is "i".
 */
final class SniKeyManager extends X509ExtendedKeyManager {
    /** One certificate chain, its key, and the names it serves (lower case). */
    record Entry(X509Certificate[] chain, PrivateKey key, List<String> names) {}

    private final List<Entry> entries;

    SniKeyManager(List<Entry> entries) {
        this.entries = List.copyOf(entries);
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
        if (sni != null) {
            for (int i = 0; i < entries.size(); i++) {
                Entry e = entries.get(i);
                for (String n : e.names()) {
                    if (covers(n, sni) && clientCan.test(e.key().getAlgorithm())) return e.key().getAlgorithm().equals(keyType) ? Integer.toString(i) : null;
                }
            }
        }
        for (int i = 0; i < entries.size(); i++) {
            String alg = entries.get(i).key().getAlgorithm();
            if (clientCan.test(alg)) return alg.equals(keyType) ? Integer.toString(i) : null;
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
            for (String a : algs) if (a.toUpperCase(Locale.ROOT).contains(want)) return true;
            return false;
        };
    }

    static String requestedName(SSLEngine engine) {
        SSLSession s = engine == null ? null : engine.getHandshakeSession();
        if (!(s instanceof ExtendedSSLSession es)) return null;
        for (SNIServerName n : es.getRequestedServerNames()) {
            if (n instanceof SNIHostName h) return h.getAsciiName().toLowerCase(Locale.ROOT);
        }
        return null;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        return aliasFor(keyType, requestedName(engine), clientCan(engine));
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
        try {
            int i = Integer.parseInt(alias);
            return i >= 0 && i < entries.size() ? entries.get(i) : null;
        } catch (NumberFormatException | NullPointerException e) {
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
