package org.epollproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
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

    /**
     * The limit is this process's soft RLIMIT_NOFILE, exactly: what a child shell's {@code ulimit -n}
     * reports (a child inherits the limit). The JVM raised the soft limit to the hard one at start, so
     * here both columns of /proc are equal; the text below, where they differ, tells them apart.
     */
    @Test
    void theLimitIsTheSoftLimitFromProc() throws Exception {
        Process p = new ProcessBuilder("bash", "-c", "ulimit -n").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, out);
        assertEquals(out.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(out), FdBudget.limit(), "RLIMIT_NOFILE from /proc/self/limits");

        List<String> procLimits = List.of(
                "Limit                     Soft Limit           Hard Limit           Units     ",
                "Max processes             63408                63408                processes ",
                "Max open files            1024                 524288               files     ",
                "Max locked memory         8388608              8388608              bytes     ");
        assertEquals(1024, org.epollproxy.stats.ProcessMetrics.maxFds(procLimits), "the soft limit, not the hard one nor another line's");
        assertEquals(Long.MAX_VALUE, org.epollproxy.stats.ProcessMetrics.maxFds(List.of("Max open files            unlimited            unlimited            files")));
        assertEquals(-1, org.epollproxy.stats.ProcessMetrics.maxFds(List.of("Max processes             63408                63408                processes")));
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
        assertTrue(ms < 20_000, "60,000 forwards checked in " + ms + " ms (a bound for a loaded machine; pairwise took 29 s on a quiet one)");
    }
}
