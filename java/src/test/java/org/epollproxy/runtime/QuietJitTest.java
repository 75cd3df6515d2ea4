package org.epollproxy.runtime;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** When --warmup auto ends, on a clock the test steps itself (no real time passes). */
class QuietJitTest {
    private static final long T0 = 1_000_000_000L;

    private static long at(long millis) {
        return T0 + TimeUnit.MILLISECONDS.toNanos(millis);
    }

    @Test
    void endsOnceTheCompilerHasUsedNoCpuForTheQuietSpell() {
        QuietJit q = new QuietJit(T0);
        long ticks = 0;
        int enough = QuietJit.MIN_CONNECTIONS;
        for (long ms = 0; ms <= 1500; ms += 20) assertFalse(q.over(at(ms), ticks += 3, enough), "busy at " + ms);
        // from 1500 on the compiler's CPU stays put
        for (long ms = 1520; ms < 1500 + QuietJit.QUIET_MILLIS; ms += 20) assertFalse(q.over(at(ms), ticks, enough), "quiet only since 1500, at " + ms);
        assertTrue(q.over(at(1500 + QuietJit.QUIET_MILLIS), ticks, enough));
        assertTrue(q.why().contains("quiet"), q.why());
    }

    @Test
    void aQuietSpellCountsOnlyOnceTheRoundHasMadeEnoughConnections() {
        QuietJit q = new QuietJit(T0);
        for (long ms = 0; ms < 3000; ms += 20) assertFalse(q.over(at(ms), 7, (int) ms), "a pause between tiers at " + ms);
        assertFalse(q.over(at(3000), 7, QuietJit.MIN_CONNECTIONS - 1), "one connection short");
        assertFalse(q.over(at(3000 + QuietJit.QUIET_MILLIS - 20), 7, QuietJit.MIN_CONNECTIONS + 900));
        assertTrue(q.over(at(3000 + QuietJit.QUIET_MILLIS), 7, QuietJit.MIN_CONNECTIONS + 1000));
    }

    @Test
    void neverRunsPastItsCapWhileTheCompilerKeepsWorking() {
        QuietJit q = new QuietJit(T0);
        long ticks = 0, ms = 0;
        while (!q.over(at(ms), ticks += 1, 1000)) ms += 20;
        assertTrue(ms == QuietJit.CAP_MILLIS, "ended at " + ms);
        assertTrue(q.capped() && q.why().contains("cap"), q.why());
    }

    @Test
    void theCapHoldsWhenNoConnectionEverCompletes() {
        QuietJit q = new QuietJit(T0);
        assertFalse(q.over(at(QuietJit.CAP_MILLIS - 1), CompilerCpu.UNKNOWN, 0));
        assertTrue(q.over(at(QuietJit.CAP_MILLIS), CompilerCpu.UNKNOWN, 0));
        assertTrue(q.capped());
    }

    @Test
    void withoutAReadingOfTheCompilerItRunsAFixedTime() {
        QuietJit q = new QuietJit(T0);
        assertFalse(q.over(at(QuietJit.BLIND_MILLIS - 1), CompilerCpu.UNKNOWN, 500));
        assertTrue(q.over(at(QuietJit.BLIND_MILLIS), CompilerCpu.UNKNOWN, 500));
        assertTrue(q.why().contains("not readable"), q.why());
        assertFalse(q.capped());
    }

    @Test
    void aNewRoundWaitsForAQuietSpellOfItsOwn() {
        QuietJit q = new QuietJit(T0);
        int enough = QuietJit.MIN_CONNECTIONS;
        assertFalse(q.over(at(0), 5, enough));
        assertTrue(q.over(at(QuietJit.QUIET_MILLIS), 5, enough));
        q.newRound(at(300));
        assertFalse(q.over(at(300), 5, 0), "the new round's forward has done nothing yet");
        assertFalse(q.over(at(320), 5, enough - 1), "one connection short");
        assertFalse(q.over(at(320 + QuietJit.QUIET_MILLIS - 20), 5, enough + 10));
        assertTrue(q.over(at(320 + QuietJit.QUIET_MILLIS), 5, enough + 20));
    }
}
