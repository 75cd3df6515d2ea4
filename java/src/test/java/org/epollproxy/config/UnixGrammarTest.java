package org.epollproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** ssh's UNIX socket forms of -L, their config-file counterparts, and [accept-proxy]. */
class UnixGrammarTest {

    @Test
    void theSshFormsParseAndFormatBack() throws SpecException {
        ForwardSpec a = ForwardSpec.parse("2375:/var/run/docker.sock", "tcp");
        assertEquals(null, a.bindHost());
        assertEquals(2375, a.bindPort());
        assertEquals(List.of(ForwardSpec.HostPort.unix("/var/run/docker.sock")), a.backends());
        ForwardSpec b = ForwardSpec.parse("0.0.0.0:2375:/var/run/docker.sock", "tcp");
        assertEquals("0.0.0.0", b.bindHost());
        ForwardSpec c = ForwardSpec.parse("/run/app.sock:10.0.0.5:80", "tcp");
        assertTrue(c.isUnixListen());
        assertEquals("/run/app.sock", c.bindHost());
        assertEquals(List.of(new ForwardSpec.HostPort("10.0.0.5", 80)), c.backends());
        ForwardSpec d = ForwardSpec.parse("/run/a.sock:/run/b.sock,127.0.0.1:80,./c.sock", "tcp");
        assertEquals(List.of(ForwardSpec.HostPort.unix("/run/b.sock"), new ForwardSpec.HostPort("127.0.0.1", 80),
                ForwardSpec.HostPort.unix("./c.sock")), d.backends());
        for (ForwardSpec s : new ForwardSpec[] {a, b, c, d}) assertEquals(s, ForwardSpec.parse(s.format(), "tcp"), s.format());
    }

    @Test
    void badUnixFormsSayWhy() {
        String longPath = "/" + "x".repeat(107);
        assertTrue(assertThrows(SpecException.class, () -> ForwardSpec.parse("9000:" + longPath, "tcp")).getMessage().contains("limit is 107"));
        assertTrue(assertThrows(SpecException.class, () -> ForwardSpec.parse("9000:/x.sock", "udp")).getMessage().contains("TCP forwards (-L) only"));
        assertThrows(SpecException.class, () -> ForwardSpec.parse("/a.sock:80", "tcp"));
        assertThrows(SpecException.class, () -> ForwardSpec.parse("/a.sock:h:80:90", "tcp"));
        assertThrows(SpecException.class, () -> ForwardSpec.parse("1:2:9000:/x.sock", "tcp"));
    }

    @Test
    void theConfigFileTakesAPathForAnAddressAndItsPort() throws SpecException {
        Config c = ConfigParser.parse(String.join("\n",
                "allow 10.*",
                "0.0.0.0 2375 /var/run/docker.sock",
                "/run/app.sock 127.0.0.1 8080 [accept-proxy, proxy=v2]",
                "/run/a.sock /run/b.sock [failover=/run/c.sock]",
                "127.0.0.1 9000 127.0.0.1 80 [accept-proxy]",
                "allow 192.168.*"), "t.conf");
        assertEquals(4, c.rules().size());
        assertEquals(List.of(ForwardSpec.HostPort.unix("/var/run/docker.sock")), c.rules().get(0).backends());
        Rule app = c.rules().get(1);
        assertEquals("/run/app.sock", app.bindHost());
        assertTrue(app.acceptProxy());
        assertEquals("v2", app.sendProxy());
        assertEquals(List.of(ForwardSpec.HostPort.unix("/run/b.sock"), ForwardSpec.HostPort.unix("/run/c.sock")), c.rules().get(2).backends());
        assertTrue(c.rules().get(3).acceptProxy());
        assertEquals(List.of("192.168.*"), c.rules().get(3).allow());
    }

    @Test
    void allowOrDenyAfterAUnixListenerIsAnErrorNamingTheRule() {
        SpecException e = assertThrows(SpecException.class, () -> ConfigParser.parse("/run/app.sock 127.0.0.1 8080\ndeny 10.*\n", "t.conf"));
        assertEquals(2, e.line());
        assertTrue(e.getMessage().contains("rule of line 1: it listens on a UNIX socket"), e.getMessage());
        assertTrue(assertThrows(SpecException.class, () -> ConfigParser.parse("/run/a.sock 127.0.0.1 53/udp\n", "t.conf"))
                .getMessage().contains("TCP forwards only"));
        assertTrue(assertThrows(SpecException.class, () -> ConfigParser.parse("0.0.0.0 53/udp 127.0.0.1 53/udp [accept-proxy]\n", "t.conf"))
                .getMessage().contains("TCP forwards only"));
    }
}
