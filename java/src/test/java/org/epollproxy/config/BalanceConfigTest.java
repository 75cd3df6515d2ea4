package org.epollproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The balancing options of a config line: what they mean, and every nonsense rejected with line and column. */
class BalanceConfigTest {

    @Test
    void aLineWithPolicyWeightsAndChecks() throws Exception {
        Config c = ConfigParser.parse("# three app servers\n"
                + "0.0.0.0 80 10.0.0.1 8080 [balance=roundrobin, weight=3, backend=10.0.0.2:8080, backend=[::1]:8080:2,"
                + " max_fails=5, fail_timeout=30s, check=500ms, rise=3, fall=4, check_send=PING\\r\\n, check_expect=+PONG]\n", "f");
        Rule r = c.rules().get(0);
        assertEquals(3, r.backends().size());
        assertEquals("::1", r.backends().get(2).host());
        assertEquals(List.of(3, 1, 2), r.weights());
        BalanceOptions b = r.balance();
        assertEquals(new BalanceOptions("roundrobin", 5, 30_000, 500, 3, 4, "PING\r\n", "+PONG"), b);
    }

    @Test
    void failoverKeepsItsMeaningAndALineWithoutOptionsHasNone() throws Exception {
        Rule r = ConfigParser.parse("0 80 a 81 [failover=b:82]\n", "f").rules().get(0);
        assertEquals(List.of(1, 1), r.weights());
        assertEquals(BalanceOptions.NONE, r.balance());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "[balance=random]                    | balance=random: expected one of first, roundrobin, leastconn, source | balance=random",
        "[weight=2]                          | a weight needs balance=roundrobin, leastconn or source              | weight=2",
        "[balance=leastconn,weight=0]        | weight=0: a weight is a number 1-256                               | weight=0",
        "[balance=source,weight=2,weight=3]  | weight= is given twice                                             | weight=3",
        "[balance=source,backend=b:81:x]     | backend=b:81:x: a weight is a number 1-256                         | backend=",
        "[balance=source,backend=b:81:2:2]   | expected HOST:PORT or HOST:PORT:WEIGHT                             | backend=",
        "[check=1, rise=2, check=2]          | check= is given twice                                              | check=2",
        "[rise=2]                            | need check=INTERVAL                                                 | rise=2",
        "[check=0]                           | check=0: \"0\" is out of range                                      | check=0",
        "[check=fast]                        | \"fast\" is not a duration                                          | check=fast",
        "[check=1,check_send=a\\q]           | unknown escape \\q                                                  | check_send",
        "[max_fails=-1]                      | \"-1\" is not a number 0-1000                                       | max_fails",
        "[balance=first,balance=source]      | balance= is given twice                                             | balance=source",
        "[colour=red]                        | unknown option \"colour\"                                           | colour",
    })
    void nonsenseIsRejectedWithLineAndColumn(String opts, String message, String at) {
        String line = "0 80 a 81 " + opts.strip();
        SpecException e = assertThrows(SpecException.class, () -> ConfigParser.parse("# x\n" + line + "\n", "f"));
        assertEquals(2, e.line());
        assertTrue(e.getMessage().contains(message.strip()), e.getMessage());
        assertEquals(line.indexOf(at.strip()), e.position(), e.getMessage() + " points at " + line.substring(e.position()));
    }

    @Test
    void balancingAUdpForwardIsRejected() {
        SpecException e = assertThrows(SpecException.class, () -> ConfigParser.parse("0 53/udp a 53 [balance=roundrobin]\n", "f"));
        assertTrue(e.getMessage().contains("TCP forwards only"), e.getMessage());
    }

    @Test
    void durationsAndEscapes() {
        assertEquals(10_000, OptionValues.millis("10"));
        assertEquals(10_000, OptionValues.millis("10s"));
        assertEquals(250, OptionValues.millis("250ms"));
        assertEquals("GET / HTTP/1.0\r\n\r\n", OptionValues.escaped("GET / HTTP/1.0\\r\\n\\r\\n"));
        assertEquals("a,b", OptionValues.escaped("a\\x2cb"));
    }
}
