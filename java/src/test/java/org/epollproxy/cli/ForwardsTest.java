package org.epollproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.epollproxy.config.ForwardSpec;
import java.util.List;
import org.epollproxy.config.Config;
import org.epollproxy.config.ConfigParser;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.ProxyProtocol;
import org.junit.jupiter.api.Test;

/** -L/-U arguments and config lines become forwards with the right rules and options. */
class ForwardsTest {
    @Test
    void configLinesCarryTheirOptionsAndGlobalRulesApplyToEveryForward() throws Exception {
        Config c = ConfigParser.parse(String.join("\n",
                "deny 10.9.9.9",
                "127.0.0.1 0 127.0.0.1 80 [proxy=v1,failover=127.0.0.1:81]",
                "127.0.0.1 0/udp 127.0.0.1 53/udp [timeout=9,src=127.0.0.1]"), "x.conf");
        List<Forward> fs = Forwards.build(List.of(new Forwards.Arg(ForwardSpec.parse("0:127.0.0.1:22", "tcp"),
                "0:127.0.0.1:22", ProxyProtocol.OFF)), c);
        assertEquals(3, fs.size());
        Forward cli = fs.get(0);
        assertEquals("-L 0:127.0.0.1:22", cli.origin());
        assertEquals("denied", cli.access().check(org.epollproxy.shim.SockAddr.parse("10.9.9.9", 1)),
                "the config's global deny applies to -L forwards too");
        Forward tcp = fs.get(1);
        assertEquals("x.conf:2", tcp.origin());
        assertEquals(ProxyProtocol.V1, tcp.sendProxy());
        assertEquals(2, tcp.backends().size());
        Forward udp = fs.get(2);
        assertEquals(Forward.Proto.UDP, udp.proto());
        assertEquals(9, udp.udpTimeoutSec());
        assertEquals("127.0.0.1", udp.source().hostText());
        assertNull(Forwards.duplicate(fs), "port 0 forwards never collide");
    }

    @Test
    void twoForwardsOnOneAddressAreNamedBoth() throws Exception {
        Config c = ConfigParser.parse("127.0.0.1 7000 127.0.0.1 80\n", "y.conf");
        List<Forward> fs = Forwards.build(List.of(new Forwards.Arg(ForwardSpec.parse("7000:127.0.0.1:22", "tcp"),
                "7000:127.0.0.1:22", ProxyProtocol.OFF)), c);
        String dup = Forwards.duplicate(fs);
        assertTrue(dup.contains("y.conf:1") && dup.contains("-L 7000:127.0.0.1:22"), dup);
    }
}
