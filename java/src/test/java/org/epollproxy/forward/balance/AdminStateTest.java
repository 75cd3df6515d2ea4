package org.epollproxy.forward.balance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.List;
import org.epollproxy.forward.Backend;
import org.epollproxy.forward.Balancing;
import org.epollproxy.forward.Forward;
import org.epollproxy.shim.SockAddr;
import org.junit.jupiter.api.Test;

/** What the operator sets (ctl) and what health checking says agree; slow start; run-time weights. */
class AdminStateTest {
    private static final Balancing CHECKED = new Balancing(Balancing.Policy.ROUNDROBIN, 3, 10_000, 1000, 2, 3, null, null);

    private static Forward forward(int... weights) throws Exception {
        List<Backend> bs = new java.util.ArrayList<>();
        for (int i = 0; i < weights.length; i++) {
            bs.add(new Backend("127.0.0.1", SockAddr.of(InetAddress.getByName("127.0.0.1"), 8001 + i), weights[i]));
        }
        return new Forward(SockAddr.of(InetAddress.getByName("127.0.0.1"), 9000), bs).withBalancing(CHECKED);
    }

    private static int[] picks(BackendGroup g, int n, long now) {
        int[] got = new int[g.size()];
        for (int i = 0; i < n; i++) got[g.pick(null, 0, now)]++;
        return got;
    }

    @Test
    void aDrainedBackendIsNotCheckedIntoServiceAndEnableLetsTheChecksDecide() throws Exception {
        BackendGroup g = new BackendPool().group(forward(1, 1));
        BackendState s = g.state(1);
        for (int i = 0; i < 3; i++) s.checked(false, "connection refused", CHECKED);
        assertFalse(s.up());
        assertTrue(s.setAdmin(AdminState.DRAIN, "test").contains("drain: set by test (was ready)"));
        for (int i = 0; i < 2; i++) s.checked(true, null, CHECKED);
        assertTrue(s.up(), "the checks say up");
        assertFalse(s.usable(System.nanoTime()), "but drained: no new client");
        assertEquals(0, picks(g, 100, System.nanoTime())[1]);

        // enable while the checks hold it down: still down until they pass
        for (int i = 0; i < 3; i++) s.checked(false, "connection refused", CHECKED);
        assertTrue(s.setAdmin(AdminState.READY, "test").endsWith("; still down by health"));
        assertFalse(s.usable(System.nanoTime()));
        for (int i = 0; i < 2; i++) s.checked(true, null, CHECKED);
        assertTrue(s.usable(System.nanoTime()));
        assertEquals(50, picks(g, 100, System.nanoTime())[1]);
        assertNull(s.setAdmin(AdminState.READY, "test"), "no change, no line");
    }

    @Test
    void aDisabledBackendStaysOutWhateverTheChecksSay() throws Exception {
        BackendGroup g = new BackendPool().group(forward(1, 1, 1));
        g.state(2).setAdmin(AdminState.DISABLED, "test");
        for (int i = 0; i < 5; i++) g.state(2).checked(true, null, CHECKED);
        int[] got = picks(g, 300, System.nanoTime());
        assertEquals(0, got[2]);
        assertEquals(300, got[0] + got[1]);
    }

    @Test
    void aStateSurvivesAReloadThatKeepsTheBackend() throws Exception {
        BackendPool pool = new BackendPool();
        Forward f = forward(1, 1);
        pool.update(List.of(f));
        pool.group(f).state(1).setAdmin(AdminState.DRAIN, "test");
        Forward changed = forward(1, 1, 1); // a reload that adds a backend
        pool.update(List.of(changed));
        assertEquals(AdminState.DRAIN, pool.group(changed).state(1).admin());
        assertEquals(AdminState.READY, pool.group(changed).state(2).admin());
    }

    @Test
    void aRunTimeWeightChangesTheShare() throws Exception {
        BackendGroup g = new BackendPool().group(forward(1, 1));
        g.state(0).setWeight(3, 1, "test");
        try {
            assertEquals(3, g.weight(0));
            int[] got = picks(g, 400, System.nanoTime());
            assertEquals(300, got[0]);
        } finally {
            g.state(0).setWeight(0, 1, "test");
        }
        assertEquals(1, g.weight(0));
    }

    @Test
    void withSlowStartABackendComingBackTakesAGrowingShare() throws Exception {
        BackendPool pool = new BackendPool();
        long slow = 10_000_000_000L;
        pool.setSlowStart(slow);
        BackendGroup g = pool.group(forward(1, 1));
        BackendState s = g.state(1);
        s.setAdmin(AdminState.DRAIN, "test");
        long t0 = System.nanoTime();
        s.setAdmin(AdminState.READY, "test");
        // roundrobin alternates; backend 1 keeps its turn with its share (1/16 at first, then linear) and passes it on otherwise
        int first = picks(g, 10_000, t0)[1];
        int half = picks(g, 10_000, t0 + slow / 2)[1];
        int full = picks(g, 10_000, t0 + 2 * slow)[1];
        assertTrue(first < 800, "at the start about 1/16 of its half: " + first);
        assertTrue(half > 1800 && half < 3400, "half way about 1/2 of its half: " + half);
        assertEquals(5000, full, "after the slow start: its whole share");
    }
}
