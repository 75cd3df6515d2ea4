package org.epollproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HostSyntaxTest {
    @ParameterizedTest
    @ValueSource(strings = {"::", "::1", "fe80::1", "2001:db8::", "1:2:3:4:5:6:7:8", "::ffff:10.0.0.1",
        "1:2:3:4:5:6:1.2.3.4", "fe80::1%eth0", "2001:DB8:0:0:8:800:200C:417A"})
    void validIpv6Literals(String s) throws Exception {
        assertTrue(HostSyntax.isIpv6Literal(s), s);
        assertEquals(s, HostSyntax.check(s, true, 0, 0));
        assertEquals(s, HostSyntax.check("[" + s + "]", false, 0, 0));
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.0.0.1:80", ":1", "1:", "1::2::3", "1:2:3:4:5:6:7:8:9", "12345::1", "g::1",
        "::1.2.3.256", "1:2:3:4:5:6:7:8::", ":", "::%", "fe80::1%", "1.2.3.4"})
    void invalidIpv6Literals(String s) {
        assertFalse(HostSyntax.isIpv6Literal(s), s);
    }
}
