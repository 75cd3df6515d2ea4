package org.epollproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The --route grammar and the config file's route lines: what they accept, normalise and refuse. */
class RouteSpecTest {

    @Test
    void eachMatchKindParsesWithTheBindAndBackendsOfAnL() throws SpecException {
        RouteSpec r = RouteSpec.parse("0.0.0.0:443:sni:*.Example.COM.=10.0.0.5:443,10.0.0.6:443");
        assertEquals("sni:*.example.com", r.match(), "lower case, no trailing dot");
        assertEquals("0.0.0.0", r.spec().bindHost());
        assertEquals(443, r.spec().bindPort());
        assertEquals(2, r.spec().backends().size());
        assertEquals("alpn:acme-tls/1", RouteSpec.parse("443:alpn:acme-tls/1=127.0.0.1:8444").match());
        assertEquals("proto:ssh", RouteSpec.parse("[::1]:443:proto:ssh=[::1]:22").match());
        assertEquals("::1", RouteSpec.parse("[::1]:443:proto:ssh=[::1]:22").spec().bindHost());
        assertEquals("any", RouteSpec.parse("443:any=127.0.0.1:80").match());
        assertEquals(null, RouteSpec.parse("443:any=127.0.0.1:80").spec().bindHost(), "loopback by default, as -L");
    }

    @Test
    void badRoutesSayWhatIsWrong() {
        for (String[] c : new String[][] {
            {"443:sni:=127.0.0.1:1", "expected a host name"},
            {"443:sni:a b=127.0.0.1:1", "expected a host name"},
            {"443:alpn:=127.0.0.1:1", "a protocol name is 1-255"},
            {"443:proto:ftp=127.0.0.1:1", "expected proto:tls"},
            {"443:tls=127.0.0.1:1", "MATCH sni:NAME"},
            {"443:any", "no '='"},
            {"443:any=127.0.0.1", "expected [BIND:]PORT:HOST:HOSTPORT"},
            {"/run/x.sock:any=127.0.0.1:1", "not a UNIX socket path"},
        }) {
            SpecException e = assertThrows(SpecException.class, () -> RouteSpec.parse(c[0]), c[0]);
            assertTrue(e.getMessage().contains(c[1]), c[0] + ": " + e.getMessage());
        }
    }

    @Test
    void routeLinesInTheConfigFileKeepTheirOrderAndOptions() throws SpecException {
        Config c = ConfigParser.parse(String.join("\n",
                "0.0.0.0 443 127.0.0.1 8443",
                "allow 10.*",
                "route 0.0.0.0 443 sni:git.example 10.0.0.7 443 [balance=roundrobin,backend=10.0.0.8:443,proxy=v2]",
                "route 0.0.0.0 443 proto:ssh 127.0.0.1 22",
                ""), "t.conf");
        List<Rule> rules = c.rules();
        assertEquals(3, rules.size());
        assertEquals(null, rules.get(0).route());
        assertEquals(List.of("10.*"), rules.get(0).allow(), "allow/deny follow the forward line of the listener");
        assertEquals("sni:git.example", rules.get(1).route());
        assertEquals(2, rules.get(1).backends().size());
        assertEquals("v2", rules.get(1).sendProxy());
        assertEquals("roundrobin", rules.get(1).balance().policy());
        assertEquals("proto:ssh", rules.get(2).route());
    }

    @Test
    void badRouteLinesNameTheLineAndColumn() {
        for (String[] c : new String[][] {
            {"route 0.0.0.0 443 sni:a..b 127.0.0.1 1", "1:23", "expected a host name"},
            {"route 0.0.0.0 443/udp any 127.0.0.1 1/udp", "1:15", "routes are for TCP listeners only"},
            {"route 0.0.0.0 443 any 127.0.0.1 1 [accept-proxy]", "1:19", "accept-proxy goes on the listener's forward line"},
            {"route 0.0.0.0 443 any", "1:1", "expected \"route bindaddress bindport MATCH"},
            {"route 0.0.0.0 443 any 127.0.0.1 1\ndeny 10.*", "2:1", "deny cannot follow the route of line 1"},
        }) {
            SpecException e = assertThrows(SpecException.class, () -> ConfigParser.parse(c[0], "t.conf"), c[0]);
            assertEquals(c[1], e.line() + ":" + (e.position() + 1), c[0] + ": " + e.getMessage());
            assertTrue(e.getMessage().contains(c[2]), c[0] + ": " + e.getMessage());
        }
    }
}
