package org.epollproxy.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.epollproxy.forward.Settings;
import org.epollproxy.shim.InterposedKernel;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.Shim;
import org.junit.jupiter.api.Test;

/**
 * Warm-ups that run for a fixed time, or against a stand-in for the JIT: they neither count the JVM's fds nor read
 * how busy its JIT is, so they run beside other classes instead of in {@link WarmupTest}'s time alone (the
 * test JVM's last seconds, when nothing else may run, were theirs too).
 */
class WarmupFixedTimeTest {
    /**
     * A JIT that never goes quiet: the clients stop at the cap, usually before the warm-up asks QuietJit
     * again, and the line must say it ended at the cap, not "until the JIT was quiet" (which a loaded
     * machine printed after 10 s and one round).
     */
    @Test
    void aWarmupThatReachesItsCapSaysSo() {
        java.util.concurrent.atomic.AtomicLong busy = new java.util.concurrent.atomic.AtomicLong();
        Warmup.Result r = Warmup.run(Shim.load(), Settings.DEFAULTS, Warmup.AUTO, busy::incrementAndGet, 300);
        assertTrue(r.how().equals("1 round, " + QuietJit.AT_CAP), r.how());
    }

    /**
     * Every warm-up connection ends closed by its client or its backend: none refused, reset or open at the
     * stop. Those ends run code the real forward's traffic does not (an error read, other end reasons), and
     * their uncommon traps threw the compiled forwarding path away just before the listening line. With the
     * backend closed before the clients stopped (their next connections refused) this failed 2 of 3 runs,
     * and 1 of 3 with the stop not waiting for the last connections to close.
     */
    @Test
    void everyWarmupConnectionEndsClosedByOneSide() {
        // A connection in the middle when the warm-up's 500 ms are up, as on a busy machine: the proxy's
        // connects to the backend from 400 ms on wait until 2 s after the start.
        long start = System.nanoTime();
        Kernel slow = InterposedKernel.over(Shim.load(), (name, args, real) -> {
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            if (name.equals("connect") && ms >= 400 && ms < 2000) Thread.sleep(2000 - ms);
            return real.invoke();
        });
        Warmup.Result r = Warmup.run(slow, Settings.DEFAULTS, 500);
        assertTrue(r.connections() > 0, "connections went through: " + r);
        assertEquals(0, r.endedOtherwise(), "connections refused, reset or open at the stop: " + r);
    }

    /**
     * While its connections run, the warm-up posts tasks to its loop now and then (a real loop gets them from
     * every /metrics scrape, control command and reload), so the loop's wake-up is among the branches the JIT
     * compiles in: the wake-up of the stop then throws no compiled code away. Without them the loop's eventfd
     * was written once, at the stop, and once for the count of the ends.
     */
    @Test
    void theWarmupWakesItsLoopWithTasksWhileConnectionsRun() {
        AtomicInteger wakeups = new AtomicInteger();
        Kernel counting = InterposedKernel.over(Shim.load(), (name, args, real) -> {
            if (name.equals("eventfd_write")) wakeups.incrementAndGet();
            return real.invoke();
        });
        Warmup.Result r = Warmup.run(counting, Settings.DEFAULTS, 1000);
        assertTrue(r.connections() > 0, "connections went through: " + r);
        // 20 ms apart for a second: about 50; a busy machine stretches the sleeps, not to 300 ms each
        assertTrue(wakeups.get() >= 5, "eventfd writes: " + wakeups.get());
    }

}
