package org.epollproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** accept-proxy-from= in the config file and the entries --accept-proxy-from takes. */
class TrustedProxiesTest {

    @Test
    void aRuleTakesItsTrustedLoadBalancersRepeatedAndSingleAddressesBecomeBlocks() throws SpecException {
        Config c = ConfigParser.parse(String.join("\n",
                "0.0.0.0 80 10.0.0.5 80 [accept-proxy, accept-proxy-from=10.0.1.0/24, accept-proxy-from=10.0.2.7]",
                "0.0.0.0 81 10.0.0.5 80 [accept-proxy]", ""), "t.conf");
        assertEquals(List.of("10.0.1.0/24", "10.0.2.7/32"), c.rules().get(0).acceptProxyFrom());
        assertEquals(List.of(), c.rules().get(1).acceptProxyFrom(), "none given: every peer, as before");
    }

    @Test
    void badEntriesAndAMissingAcceptProxyNameTheLineAndTheValue() {
        SpecException glob = assertThrows(SpecException.class,
                () -> ConfigParser.parse("0.0.0.0 80 10.0.0.5 80 [accept-proxy, accept-proxy-from=10.*]\n", "t.conf"));
        assertTrue(glob.getMessage().contains("10.*") && glob.getMessage().contains("no * or ?"), glob.getMessage());
        assertEquals(1, glob.line());
        SpecException prefix = assertThrows(SpecException.class,
                () -> ConfigParser.parse("0.0.0.0 80 10.0.0.5 80 [accept-proxy, accept-proxy-from=10.0.0.0/33]\n", "t.conf"));
        assertTrue(prefix.getMessage().contains("prefix length"), prefix.getMessage());
        SpecException alone = assertThrows(SpecException.class,
                () -> ConfigParser.parse("0.0.0.0 80 10.0.0.5 80 [accept-proxy-from=10.0.0.0/8]\n", "t.conf"));
        assertTrue(alone.getMessage().contains("needs the flag accept-proxy"), alone.getMessage());
        assertThrows(SpecException.class, () -> TrustedProxies.cidr("lb.example.com", 0, 0));
        assertEquals("::1/128", assertDoesNotThrow("::1"));
    }

    private static String assertDoesNotThrow(String entry) {
        try {
            return TrustedProxies.cidr(entry, 0, 0);
        } catch (SpecException e) {
            throw new AssertionError(e);
        }
    }
}
