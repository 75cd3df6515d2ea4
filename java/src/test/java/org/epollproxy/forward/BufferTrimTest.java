package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.epollproxy.loop.EventLoop;
import org.junit.jupiter.api.Test;

/**
 * Memory goes back after a burst: the buffers that stayed idle for a whole trim period are freed down
 * to the pool's floor and malloc_trim is called; buffers a steady load keeps using stay. Driven by the
 * loop's injectable clock (a real epoll loop, no sleeping): each runOnce(0) is one iteration "at" the
 * clock's time.
 */
class BufferTrimTest {
    static final int SIZE = 64 * 1024;
    static final int FLOOR = (1 << 20) / SIZE; // 16: the loop's floor for 64 KiB buffers
    static final int MAX_IDLE = (16 << 20) / SIZE; // 256

    @Test
    void afterABurstIdleBuffersDropToTheFloorAndMallocTrimRuns() {
        AtomicLong clock = new AtomicLong(1_000_000_000L);
        AtomicInteger trims = new AtomicInteger();
        EventLoop loop = new EventLoop(LoopDeathTest.faulty((name, args) -> {
            if (name.equals("malloc_trim")) trims.incrementAndGet(); // counted, then really called
            return null;
        }), 0, msg -> { }, clock::get);
        ForwardingLoop fl = new ForwardingLoop(loop, Settings.builder().bufferSize(SIZE).build(),
                new Log(new PrintStream(new ByteArrayOutputStream())), new AtomicInteger());
        BufferPool pool = fl.pool();
        try {
            // A burst: 300 buffers in use at once, then all given back; 256 stay idle, 44 go to malloc.
            long[] held = new long[300];
            for (int i = 0; i < held.length; i++) held[i] = pool.take();
            for (long b : held) pool.give(b);
            assertEquals(MAX_IDLE, pool.idle());
            loop.runOnce(0); // arms the trim timer
            assertEquals(0, trims.get());

            advance(clock, loop, ForwardingLoop.TRIM_PERIOD_NANOS);
            // The burst was in this period: nothing stayed idle all along, but 44 buffers went back to malloc.
            assertEquals(MAX_IDLE, pool.idle());
            assertEquals(1, trims.get(), "malloc_trim after buffers were freed");

            advance(clock, loop, ForwardingLoop.TRIM_PERIOD_NANOS);
            assertEquals(FLOOR, pool.idle(), "a quiet period later: down to the floor");
            assertEquals((long) FLOOR * SIZE, pool.allocatedBytes());
            assertEquals(2, trims.get());

            // A steady load using 40 buffers keeps them: only what stayed idle a whole period goes.
            for (int round = 0; round < 3; round++) {
                long[] steady = new long[40];
                for (int i = 0; i < steady.length; i++) steady[i] = pool.take();
                for (long b : steady) pool.give(b);
                advance(clock, loop, ForwardingLoop.TRIM_PERIOD_NANOS);
                assertEquals(40, pool.idle(), "round " + round + ": the buffers in use this period stay");
            }
            advance(clock, loop, ForwardingLoop.TRIM_PERIOD_NANOS); // the load stopped: a quiet period
            assertEquals(FLOOR, pool.idle());
            int trimsAtFloor = trims.get();
            advance(clock, loop, 10 * ForwardingLoop.TRIM_PERIOD_NANOS);
            assertEquals(trimsAtFloor, trims.get(), "at the floor nothing is armed: an idle loop does no work");
            assertTrue(fl.counters().mallocTrims >= 3);
        } finally {
            fl.closeAll();
            loop.close();
        }
    }

    /** Moves the loop's clock on by {@code nanos} and runs one iteration "at" that time. */
    static void advance(AtomicLong clock, EventLoop loop, long nanos) {
        clock.addAndGet(nanos);
        loop.runOnce(0);
    }
}
