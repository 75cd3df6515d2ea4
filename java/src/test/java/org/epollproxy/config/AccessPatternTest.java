package org.epollproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.epollproxy.forward.AccessRules;
import java.util.List;
import org.epollproxy.shim.SockAddr;
import org.junit.jupiter.api.Test;

/** Globs and CIDR blocks against client addresses, and rinetd's order of checks. */
class AccessPatternTest {
    static SockAddr ip(String s) {
        return SockAddr.parse(s, 1234);
    }

    static boolean m(String pattern, String client) {
        return AccessPattern.of(pattern).matches(client.startsWith("::ffff:") ? mapped(client.substring(7)) : ip(client));
    }

    /** An IPv4 client as a dual-stack (::) listener sees it: AF_INET6, ::ffff:a.b.c.d. */
    static SockAddr mapped(String v4) {
        try {
            byte[] a = new byte[16];
            a[10] = (byte) 0xff;
            a[11] = (byte) 0xff;
            System.arraycopy(java.net.InetAddress.getByName(v4).getAddress(), 0, a, 12, 4);
            return SockAddr.of(java.net.Inet6Address.getByAddress(null, a, -1), 1234);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void globsMatchTheNumericAddressText() {
        assertTrue(m("192.168.2.*", "192.168.2.77"));
        assertFalse(m("192.168.2.*", "192.168.20.1"), "'.' is literal: 192.168.2* would be needed");
        assertTrue(m("192.168.2.1?", "192.168.2.15"));
        assertFalse(m("192.168.2.1?", "192.168.2.1"), "'?' is exactly one character");
        assertTrue(m("*", "10.0.0.1"));
        assertTrue(m("fe80:*", "fe80::1"));
        assertTrue(m("2001:618:*:e43f", "2001:618::e43f"));
        assertTrue(m("2001:DB8::1", "2001:db8::1"), "patterns are case-insensitive");
    }

    @Test
    void cidrBlocksMatchByPrefix() {
        assertTrue(m("10.0.0.0/8", "10.255.1.2"));
        assertFalse(m("10.0.0.0/8", "11.0.0.1"));
        assertTrue(m("192.168.1.128/25", "192.168.1.200"));
        assertFalse(m("192.168.1.128/25", "192.168.1.100"));
        assertTrue(m("0.0.0.0/0", "8.8.8.8"));
        assertTrue(m("2001:db8::/32", "2001:db8:ffff::1"));
        assertFalse(m("2001:db8::/32", "2001:db9::1"));
        assertFalse(m("10.0.0.0/8", "::1"), "families do not mix");
    }

    @Test
    void ipv4ClientsOfADualStackListenerMatchIpv4Patterns() {
        assertEquals("::ffff:10.1.2.3", mapped("10.1.2.3").hostText());
        assertTrue(m("10.*", "::ffff:10.1.2.3"));
        assertTrue(m("10.0.0.0/8", "::ffff:10.1.2.3"));
        assertTrue(m("::ffff:10.*", "::ffff:10.1.2.3"));
    }

    /** The other way round: a pattern in the ::ffff: form matches the same client on an IPv4 listener. */
    @Test
    void ipv4MappedPatternsMatchTheClientsOfAnIpv4Listener() {
        assertTrue(m("::ffff:10.*", "10.1.2.3"));
        assertTrue(m("::ffff:10.1.2.?", "10.1.2.3"));
        assertFalse(m("::ffff:10.*", "11.1.2.3"));
        assertFalse(m("::1*", "10.1.2.3"), "an IPv6 glob that is not a mapped one stays IPv6");
    }

    @Test
    void rinetdsOrderGlobalAllowsGlobalDeniesRuleAllowsRuleDenies() {
        AccessRules r = new AccessRules(List.of("10.*"), List.of("10.0.0.66"), List.of("10.0.0.*"), List.of("10.0.0.13"));
        assertEquals("not-allowed", r.check(ip("192.168.1.1")), "not in the global allows");
        assertEquals("denied", r.check(ip("10.0.0.66")), "in a global deny");
        assertEquals("not-allowed", r.check(ip("10.1.0.1")), "not in the rule's allows");
        assertEquals("denied", r.check(ip("10.0.0.13")), "in the rule's denies");
        assertNull(r.check(ip("10.0.0.1")));
        assertNull(AccessRules.ALLOW_ALL.check(ip("1.2.3.4")));
    }

    @Test
    void globMatchingIsLinearOnNastyPatterns() {
        String s = "a".repeat(5000);
        assertFalse(AccessPattern.glob("*a*a*a*a*a*a*a*b", s)); // would be exponential with naive recursion
        assertTrue(AccessPattern.glob("*a*a*a*a*a*a*a*a", s));
    }

    /** A block in IPv4-mapped form is its IPv4 block, for both kinds of client; a prefix under /96 is refused. */
    @Test
    void anIpv4MappedBlockIsItsIpv4Block() throws Exception {
        assertTrue(m("::ffff:10.1.2.0/120", "10.1.2.3"));
        assertTrue(m("::ffff:10.1.2.0/120", "::ffff:10.1.2.3"));
        assertFalse(m("::ffff:10.1.2.0/120", "10.1.3.3"));
        assertTrue(m("::ffff:10.1.2.3/128", "10.1.2.3"));
        assertFalse(m("::ffff:10.1.2.3/128", "10.1.2.4"));
        SpecException e = org.junit.jupiter.api.Assertions.assertThrows(SpecException.class,
                () -> AccessPattern.check("::ffff:10.1.2.0/24", 1, 1));
        assertTrue(e.getMessage().contains("96-128"), e.getMessage());
    }

    /**
     * An exact IPv6 address matches whatever way it is written (leading zeros, zero groups, brackets); a
     * glob part that the address text never holds is refused rather than matching nobody.
     */
    @Test
    void anIpv6AddressMatchesInEverySpellingAndAGlobThatCanMatchNobodyIsRefused() throws Exception {
        for (String spelling : new String[] {"2001:db8::1", "2001:0db8::1", "2001:db8:0:0::1", "2001:0DB8:0000:0000:0000:0000:0000:0001",
            "[2001:db8::1]"}) {
            assertTrue(m(spelling, "2001:db8::1"), spelling);
            assertFalse(m(spelling, "2001:db8::2"), spelling);
        }
        assertTrue(m("::ffff:10.1.2.3", "10.1.2.3"), "an IPv4-mapped address is its IPv4 address");
        assertTrue(m("[2001:db8::*]", "2001:db8::77"));
        for (String never : new String[] {"2001:0db8:*", "12345:*", "10.0.0.01", "10.0.0.300", "010.*", "[10.*", "2001:db8::1::2"}) {
            org.junit.jupiter.api.Assertions.assertThrows(SpecException.class, () -> AccessPattern.check(never, 1, 1), never);
        }
        assertTrue(m("10.0.0.1?", "10.0.0.15"), "wildcards are still free");
        assertTrue(m("2001:db8:*:e43f", "2001:db8:1:2::e43f"));
    }
}
