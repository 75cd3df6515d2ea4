package org.epollproxy.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The stub resolver against a DNS server the test runs: answers, empty answers, errors, silence, bad replies. */
class DnsClientTest {

    private static DnsClient client(int port, int timeoutMs) {
        return new DnsClient(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), timeoutMs);
    }

    @Test
    void aAndAaaaRecordsBothCome() throws Exception {
        try (TinyDnsServer dns = new TinyDnsServer()) {
            dns.set("app.test", "127.0.0.2", "127.0.0.3", "::1");
            List<InetAddress> got = client(dns.port(), 2000).lookup("app.test");
            assertEquals(List.of(InetAddress.getByName("127.0.0.2"), InetAddress.getByName("127.0.0.3"), InetAddress.getByName("::1")), got);
        }
    }

    @Test
    void anUnknownNameAndAnEmptyAnswerAreEmpty() throws Exception {
        try (TinyDnsServer dns = new TinyDnsServer()) {
            dns.set("empty.test");
            assertEquals(List.of(), client(dns.port(), 2000).lookup("empty.test"));
            assertEquals(List.of(), client(dns.port(), 2000).lookup("nowhere.test"));
        }
    }

    @Test
    void servfailAndSilenceAreFailuresNamingTheServer() throws Exception {
        try (TinyDnsServer dns = new TinyDnsServer()) {
            dns.set("app.test", "127.0.0.2");
            dns.failWith(2);
            DnsClient.DnsException e = assertThrows(DnsClient.DnsException.class, () -> client(dns.port(), 2000).lookup("app.test"));
            assertTrue(e.getMessage().contains("SERVFAIL") && e.getMessage().contains("127.0.0.1:" + dns.port()), e.getMessage());
            dns.failWith(-1);
            e = assertThrows(DnsClient.DnsException.class, () -> client(dns.port(), 200).lookup("app.test"));
            assertTrue(e.getMessage().contains("no answer within 2 x 200 ms"), e.getMessage());
        }
    }

    @Test
    void aDeclinedAaaaQueryIsNoAaaaRecordButAFailedOneFailsTheLookup() throws Exception {
        try (TinyDnsServer dns = new TinyDnsServer()) {
            dns.set("app.test", "127.0.0.2", "::1");
            dns.failAaaaWith(5); // REFUSED, as dnsmasq without upstream servers answers
            assertEquals(List.of(InetAddress.getByName("127.0.0.2")), client(dns.port(), 2000).lookup("app.test"));
            dns.failAaaaWith(2); // SERVFAIL: a passing failure; the caller keeps what it had
            assertThrows(DnsClient.DnsException.class, () -> client(dns.port(), 2000).lookup("app.test"));
            dns.failAaaaWith(0);
            dns.failWith(5); // both declined: a failure
            assertThrows(DnsClient.DnsException.class, () -> client(dns.port(), 2000).lookup("app.test"));
        }
    }

    @Test
    void aBadNameIsRefusedBeforeAnythingIsSent() {
        DnsClient c = client(9, 100);
        assertThrows(DnsClient.DnsException.class, () -> c.lookup("a..b"));
        assertThrows(DnsClient.DnsException.class, () -> c.lookup("x".repeat(64) + ".test"));
    }

    @Test
    void repliesThatLieAboutTheirLengthsAreErrorsNotCrashes() throws Exception {
        byte[] q = DnsMessage.query(7, "app.test", DnsClient.TYPE_A);
        byte[] r = java.util.Arrays.copyOf(q, q.length + 12);
        r[2] = (byte) 0x81;
        r[7] = 1; // one answer...
        r[q.length] = (byte) 0xc0;
        r[q.length + 1] = 12;
        r[q.length + 3] = 1;
        r[q.length + 5] = 1;
        r[q.length + 11] = 100; // ...of 100 bytes that are not there
        assertThrows(IllegalArgumentException.class, () -> DnsMessage.parse(r, r.length, q, 256));
        assertEquals(null, DnsMessage.parse(r, r.length, DnsMessage.query(8, "app.test", DnsClient.TYPE_A), 256), "another id: not ours");
        for (int cut = 0; cut < r.length; cut++) {
            try {
                DnsMessage.parse(r, cut, q, 256);
            } catch (IllegalArgumentException expected) {
                // a cut reply is an error, never an index out of bounds
            }
        }
    }
}
