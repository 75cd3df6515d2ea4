package org.epollproxy.forward.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.api.Test;

/** The engines a TlsClient makes for backends: SNI for names only, and a name SNI cannot carry is no failure. */
class TlsClientTest {
    private static List<?> names(SSLEngine e) {
        List<?> n = e.getSSLParameters().getServerNames();
        return n == null ? List.of() : n;
    }

    @Test
    void sniGoesToNamesNotAddressesAndANameSniCannotCarryMakesAnEngineWithoutIt() throws Exception {
        TlsClient c = new TlsClient("6379", null, null, null);
        SSLEngine named = c.newEngine("redis.internal", 6380);
        assertEquals(List.of(new SNIHostName("redis.internal")), named.getSSLParameters().getServerNames());
        assertEquals("HTTPS", named.getSSLParameters().getEndpointIdentificationAlgorithm());
        assertEquals(List.of(), names(c.newEngine("10.0.0.7", 6380)));
        assertEquals(List.of(), names(c.newEngine("::1", 6380)));
        SSLEngine underscore = c.newEngine("redis_primary", 6380); // a container's name: SNI refuses it, the engine is made
        assertEquals(List.of(), names(underscore));
        assertEquals("redis_primary", underscore.getPeerHost());
        assertSame(c.metrics(), c.metrics());
    }
}
