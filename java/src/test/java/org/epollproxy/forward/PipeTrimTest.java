package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.epollproxy.loop.EventLoop;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.Shim;
import org.junit.jupiter.api.Test;

/**
 * The --splice pipes a burst left go back after a quiet period, as the buffers do: the idle pipes that
 * stayed idle a whole trim period are closed down to PipePool.FLOOR, so their fds are the process's
 * again; pipes a steady load keeps using stay. Real pipes (pipe2 through the shim), the loop's
 * injectable clock, no sleeping.
 */
class PipeTrimTest {

    @Test
    void afterABurstIdlePipesAreClosedDownToTheFloor() {
        Kernel k = Shim.load();
        AtomicLong clock = new AtomicLong(1_000_000_000L);
        EventLoop loop = new EventLoop(k, 0, msg -> { }, clock::get);
        ForwardingLoop fl = new ForwardingLoop(loop, Settings.builder().splice(true).build(),
                new Log(new PrintStream(new ByteArrayOutputStream())), new AtomicInteger());
        PipePool pipes = fl.pipes();
        try {
            // A burst: 40 directions splicing at once, then all pipes given back empty.
            List<Long> held = new ArrayList<>();
            for (int i = 0; i < 40; i++) held.add(pipes.take(k));
            for (long p : held) pipes.give(k, p);
            assertEquals(40, pipes.idle());
            loop.runOnce(0); // arms the trim timer

            BufferTrimTest.advance(clock, loop, ForwardingLoop.TRIM_PERIOD_NANOS);
            assertEquals(40, pipes.idle(), "the burst was in this period: nothing stayed idle all along");

            BufferTrimTest.advance(clock, loop, ForwardingLoop.TRIM_PERIOD_NANOS);
            assertEquals(PipePool.FLOOR, pipes.idle(), "a quiet period later: down to the floor");
            int open = 0;
            for (long p : held) if (k.pipe_size(PipePool.writeEnd(p)) > 0) open++;
            assertEquals(PipePool.FLOOR, open, "the trimmed pipes' fds are closed");

            // A steady load using 10 pipes keeps them: only what stayed idle a whole period goes.
            for (int round = 0; round < 3; round++) {
                List<Long> steady = new ArrayList<>();
                for (int i = 0; i < 10; i++) steady.add(pipes.take(k));
                for (long p : steady) pipes.give(k, p);
                BufferTrimTest.advance(clock, loop, ForwardingLoop.TRIM_PERIOD_NANOS);
                assertEquals(10, pipes.idle(), "round " + round + ": the pipes in use this period stay");
            }
            BufferTrimTest.advance(clock, loop, ForwardingLoop.TRIM_PERIOD_NANOS); // the load stopped: a quiet period
            assertEquals(PipePool.FLOOR, pipes.idle());
            assertTrue(loop.scheduledTimers() == 0, "at the floor nothing is armed: an idle loop does no work");
        } finally {
            fl.closeAll();
            loop.close();
        }
    }

}
