package org.epollproxy.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.epollproxy.forward.ProxyProtocol;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * With the PROXY protocol on and a 1-byte buffer setting, every backend still gets the whole header
 * first, then the client's bytes. Before the pool had a floor, the header was written past the end of
 * a 1-byte malloc'd buffer: the first simulation run with PROXY and tiny buffers died in glibc with
 * "malloc(): invalid size (unsorted)".
 */
class ProxyHeaderScenarioTest {

    @ParameterizedTest
    @EnumSource(value = ProxyProtocol.class, names = {"V1", "V2"})
    void aWholeHeaderThenTheStreamEvenWithOneByteBuffers(ProxyProtocol version) {
        Simulation.Scenario s = Simulation.Scenario.quiet(4, 3000, 100);
        s.sendProxy = version;
        s.settings = st -> {
            st.bufferSize(1);
            st.idleTimeoutSec(120);
            st.splice(false);
        };
        Simulation.Result r = Simulation.run(7, false, s);
        assertEquals(4, r.backends.size());
        for (Peer b : r.backends) {
            assertTrue(b.prefix.length > 0 && b.prefixReceived == b.prefix.length, "the whole header reached " + b);
            assertEquals(3000, b.received, "then every byte of the client's stream: " + b);
        }
    }
}
