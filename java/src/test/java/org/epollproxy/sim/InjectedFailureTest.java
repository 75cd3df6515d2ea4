package org.epollproxy.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * One connection's handler throws (injected through the simulated kernel, on a quiet kernel with no
 * other fault): that connection is closed and cleaned up, and the loop serves the others to the end.
 */
class InjectedFailureTest {

    @Test
    void anExceptionInOneConnectionNeitherStopsTheLoopNorLeaks() {
        Simulation.Scenario s = Simulation.Scenario.quiet(3, 20_000, 30_000);
        s.settings = st -> {
            st.bufferSize(4096);
            st.idleTimeoutSec(120); // peers that wait back off up to 5 s between steps
            st.finTimeoutSec(60);
            st.splice(false); // the injected failure is in recv, which the splice path does not call
        };
        s.throwOnRecv = e -> e.name.equals("proxy-c1"); // client 1's first recv throws

        Simulation.Result r = Simulation.run(42, false, s); // all the usual invariants are checked inside

        assertEquals(1, r.handlerFailures, "the loop caught the one injected exception");
        assertEquals(1, r.ends.getOrDefault("error", 0), "the failed connection ended as an error: " + r.ends);
        assertEquals(2, r.ends.getOrDefault("client-closed", 0) + r.ends.getOrDefault("backend-closed", 0),
                "the other two ended cleanly: " + r.ends);
        for (Peer c : r.clients) {
            if (c.name.equals("client-1")) {
                assertTrue(c.end.dead, "the failed connection's client was reset, not closed cleanly: " + c);
                continue;
            }
            assertEquals(30_000, c.received, "every byte of the backend's stream reached " + c);
            assertTrue(c.end.finArrived && !c.end.dead, "a clean end (FIN, no RST) for " + c);
        }
        for (Peer b : r.backends) {
            if (b.name.endsWith("(pair 1)")) {
                assertTrue(b.end.dead, "the failed connection's backend was reset: " + b);
                continue;
            }
            assertEquals(20_000, b.received, "every byte of the client's stream reached " + b);
        }
    }
}
