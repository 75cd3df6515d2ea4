package org.epollproxy.forward.tls;

import java.security.Principal;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * What one TLS connection's session is, told to others: the name the client asked for, the client
 * certificate's subject, the protocol and cipher for /connections and the log line, and the PROXY protocol v2
 * records for the backend. Read from the engine when asked (off the data path), never kept.
 */
final class TlsSessionFacts {
    private final SSLEngine engine;

    TlsSessionFacts(SSLEngine engine) {
        this.engine = engine;
    }

    /** The client's requested server name, or null. */
    String sni() {
        SSLSession s = engine.getHandshakeSession() != null ? engine.getHandshakeSession() : engine.getSession();
        if (s instanceof ExtendedSSLSession es) {
            for (SNIServerName n : es.getRequestedServerNames()) if (n instanceof SNIHostName h) return h.getAsciiName();
        }
        return null;
    }

    /** The client certificate's subject, or null if it sent none. */
    String peerSubject() {
        try {
            Principal p = engine.getSession().getPeerPrincipal();
            return p == null ? null : p.getName();
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
    }

    /**
     * The PROXY protocol v2 records that tell the backend about this TLS connection: PP2_TYPE_ALPN (0x01),
     * PP2_TYPE_AUTHORITY (0x02, the SNI) and PP2_TYPE_SSL (0x20: client flags, verify result 0, then
     * PP2_SUBTYPE_SSL_VERSION 0x21, PP2_SUBTYPE_SSL_CN 0x22 when the client sent a certificate, and
     * PP2_SUBTYPE_SSL_CIPHER 0x23), as haproxy sends them.
     */
    byte[] proxyTlvs() {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        String alpn = engine.getApplicationProtocol();
        if (alpn != null && !alpn.isEmpty()) tlv(out, 0x01, alpn.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        String sni = sni();
        if (sni != null) tlv(out, 0x02, sni.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        java.io.ByteArrayOutputStream ssl = new java.io.ByteArrayOutputStream();
        String subject = peerSubject();
        String cn = subject == null ? null : commonName(subject);
        ssl.write(0x01 | (subject != null ? 0x02 | 0x04 : 0)); // PP2_CLIENT_SSL, _CERT_CONN, _CERT_SESS
        ssl.writeBytes(new byte[] {0, 0, 0, 0}); // verify: 0, the certificate (if any) was verified
        tlv(ssl, 0x21, engine.getSession().getProtocol().getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        if (cn != null) tlv(ssl, 0x22, cn.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        tlv(ssl, 0x23, engine.getSession().getCipherSuite().getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        tlv(out, 0x20, ssl.toByteArray());
        return out.toByteArray();
    }

    /**
     * The CN of an RFC 2253 subject ({@code CN=alice,O=Example}), unescaped; null if none. The last CN of the
     * text, which is the first in the certificate's own order, as haproxy picks it. Parsed, not split at every
     * comma: a CN may hold an escaped one ({@code CN=Smith\, John}), or share its RDN with another attribute
     * ({@code OU=Sales+CN=...}).
     */
    static String commonName(String rfc2253) {
        String cn = null;
        StringBuilder type = new StringBuilder();
        java.io.ByteArrayOutputStream value = new java.io.ByteArrayOutputStream();
        boolean inValue = false;
        int n = rfc2253.length();
        for (int i = 0; i <= n; i++) {
            char c = i < n ? rfc2253.charAt(i) : ',';
            if (c == '\\' && i + 1 < n) { // \X (a special character) or \HH (one byte of the UTF-8 value)
                char d = rfc2253.charAt(++i);
                if (i + 1 < n && Character.digit(d, 16) >= 0 && Character.digit(rfc2253.charAt(i + 1), 16) >= 0) {
                    value.write(Character.digit(d, 16) * 16 + Character.digit(rfc2253.charAt(++i), 16));
                } else {
                    value.writeBytes(String.valueOf(d).getBytes(java.nio.charset.StandardCharsets.UTF_8));
                }
            } else if (c == ',' || c == '+') { // the end of one attribute (',' between RDNs, '+' inside one)
                if (inValue && type.toString().trim().equalsIgnoreCase("CN")) {
                    cn = value.toString(java.nio.charset.StandardCharsets.UTF_8);
                }
                type.setLength(0);
                value.reset();
                inValue = false;
            } else if (!inValue && c == '=') {
                inValue = true;
            } else if (inValue) { // a character outside the BMP is a surrogate pair: encoded as one, not as two '?'
                boolean pair = Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(rfc2253.charAt(i + 1));
                value.writeBytes(rfc2253.substring(i, pair ? i + 2 : i + 1).getBytes(java.nio.charset.StandardCharsets.UTF_8));
                if (pair) i++;
            } else {
                type.append(c);
            }
        }
        return cn;
    }

    private static void tlv(java.io.ByteArrayOutputStream out, int type, byte[] value) {
        out.write(type);
        out.write(value.length >> 8);
        out.write(value.length);
        out.writeBytes(value);
    }

    /** "TLSv1.3 TLS_AES_128_GCM_SHA256 alpn=h2" for /connections. */
    String protocolText() {
        SSLSession s = engine.getSession();
        StringBuilder sb = new StringBuilder(s.getProtocol()).append(' ').append(s.getCipherSuite());
        String alpn = engine.getApplicationProtocol();
        if (alpn != null && !alpn.isEmpty()) sb.append(" alpn=").append(alpn);
        return sb.toString();
    }

    /** "TLSv1.3 TLS_AES_128_GCM_SHA256 alpn=h2 subject=CN=..." for the log line. */
    String summary() {
        StringBuilder sb = new StringBuilder(protocolText());
        String sub = peerSubject();
        if (sub != null) sb.append(" subject=").append(sub);
        return sb.toString();
    }
}
