package org.epollproxy.forward.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/**
 * The CN that PP2_SUBTYPE_SSL_CN carries, from the RFC 2253 subject the JDK gives (TlsProxyHeaderIT sends real
 * certificates through the jar; these are the spellings a CA may put in one).
 */
class CommonNameTest {

    @Test
    void theCnIsItsValueUnescapedWhateverItHolds() {
        assertEquals("alice", TlsSessionFacts.commonName("CN=alice,O=Example"));
        assertEquals("Smith, John", TlsSessionFacts.commonName("OU=Sales+CN=Smith\\, John,O=Example"), "escaped comma, multi-valued RDN");
        assertEquals("a\\41", TlsSessionFacts.commonName("CN=a\\\\41"), "an escaped backslash, not a hex escape");
        assertEquals("#x", TlsSessionFacts.commonName("CN=\\23x"), "a hex escape");
        assertEquals("Jos\u00e9", TlsSessionFacts.commonName("CN=Jos\u00e9"));
        assertEquals("a\uD83D\uDE00b", TlsSessionFacts.commonName("CN=a\uD83D\uDE00b,O=x"), "a character outside the BMP, whole");
        assertEquals("first-in-asn1", TlsSessionFacts.commonName("CN=last-in-asn1,CN=first-in-asn1"), "as haproxy picks it");
        assertNull(TlsSessionFacts.commonName("O=x,OU=CN\\=admin"));
    }
}
