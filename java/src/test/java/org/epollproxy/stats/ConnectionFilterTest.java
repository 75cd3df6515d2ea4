package org.epollproxy.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.epollproxy.forward.ConnectionInfo;
import org.junit.jupiter.api.Test;

/** {@code /connections?...}: how filter values match the listed fields, and what is refused. */
class ConnectionFilterTest {

    private static ConnectionInfo conn(String forward, String client, String backend) {
        return new ConnectionInfo(0, forward, client, backend, "-", "open", 0, 0, 0, 0, 0, 0, 0, 0, "copy");
    }

    @Test
    void aValueMatchesTheWholeFieldOrItsAddressWithoutThePort() {
        ConnectionInfo v4 = conn("127.0.0.1:9000", "10.1.2.3:40000", "10.0.0.5:80");
        ConnectionInfo v6 = conn("[::1]:9000", "[2001:db8::7]:40000", "/run/app.sock");
        assertTrue(ConnectionFilter.parse("client=10.1.2.3").matches(v4));
        assertTrue(ConnectionFilter.parse("client=10.1.2.3:40000&forward=127.0.0.1:9000").matches(v4));
        assertFalse(ConnectionFilter.parse("client=10.1.2.3:40001").matches(v4));
        assertFalse(ConnectionFilter.parse("client=10.1.2").matches(v4), "no prefix match");
        assertTrue(ConnectionFilter.parse("client=2001:db8::7").matches(v6));
        assertTrue(ConnectionFilter.parse("forward=%5B::1%5D:9000").matches(v6), "URL-decoded");
        assertTrue(ConnectionFilter.parse("backend=/run/app.sock").matches(v6));
        assertFalse(ConnectionFilter.parse("backend=/run/app").matches(v6));
        assertTrue(ConnectionFilter.parse("").matches(v6));
        assertTrue(ConnectionFilter.parse(null).matches(v6));
    }

    @Test
    void unknownParametersAndBadEscapesAreNamed() {
        assertEquals("unknown parameter 'state'; /connections takes forward=, client= and backend=",
                assertThrows(IllegalArgumentException.class, () -> ConnectionFilter.parse("state=open")).getMessage());
        assertEquals("bad %-escape in parameter 'client'",
                assertThrows(IllegalArgumentException.class, () -> ConnectionFilter.parse("client=%zz")).getMessage());
    }
}
