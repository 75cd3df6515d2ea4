package org.epollproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.epollproxy.forward.AccessRules;
import org.epollproxy.forward.Backend;
import org.epollproxy.forward.Forward;
import org.epollproxy.shim.SockAddr;
import org.junit.jupiter.api.Test;

/** Many forwards: the duplicate check is linear, and what cannot fit in the fd limit is refused before binding. */
class FdBudgetTest {

    @Test
    void forwardsThatFitPassAndTheRestIsRefusedNamingTheNumbers() {
        assertNull(FdBudget.check(15_000, 1, 20_000));
        String msg = FdBudget.check(25_000, 1, 20_000);
        assertTrue(msg != null && msg.contains("25000 forwards on 1 thread(s) need 25000 listening sockets")
                && msg.contains("the limit (RLIMIT_NOFILE) is 20000"), msg);
        assertTrue(FdBudget.check(10_000, 2, 20_000) != null, "each thread has its own listening socket per forward");
        assertNull(FdBudget.check(1_000_000, 4, -1), "an unknown limit is not guessed");
    }

    @Test
    void theLimitIsReadFromProc() {
        assertTrue(FdBudget.limit() > 0, "RLIMIT_NOFILE from /proc/self/limits");
    }

    @Test
    void theDuplicateCheckIsLinearNotPairwise() {
        // Pairwise, 60,000 forwards are 1.8 billion key comparisons (29 s measured, keys cached); hashed, under a second.
        int n = 60_000;
        List<Forward> fs = new ArrayList<>(n + 1);
        List<Backend> backend = List.of(new Backend("127.0.0.1", SockAddr.parse("127.0.0.1", 9)));
        for (int i = 0; i < n; i++) {
            fs.add(new Forward(Forward.Proto.TCP, SockAddr.parse("127.1." + (i / 250) + "." + (i % 250 + 1), 7000), backend,
                    AccessRules.ALLOW_ALL, -1, null, "f:" + (i + 1)));
        }
        fs.add(new Forward(Forward.Proto.TCP, SockAddr.parse("127.1.0.1", 7000), backend, AccessRules.ALLOW_ALL, -1, null, "f:last"));
        long t0 = System.nanoTime();
        String dup = Forwards.duplicate(fs);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals("f:last: tcp 127.1.0.1:7000 is already forwarded by f:1", dup);
        assertTrue(ms < 10_000, "60,000 forwards checked in " + ms + " ms (a generous bound; pairwise took 29 s)");
    }
}
