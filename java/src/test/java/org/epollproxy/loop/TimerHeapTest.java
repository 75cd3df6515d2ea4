package org.epollproxy.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The timer heap orders deadlines the way System.nanoTime() must be compared: by {@code a - b < 0},
 * never {@code a < b}. nanoTime has an arbitrary origin and may be anywhere, including just below
 * Long.MAX_VALUE, so deadlines a few seconds apart can straddle the wrap to Long.MIN_VALUE.
 */
class TimerHeapTest {
    /** Just below the wrap: base + 2_000 is numerically negative but 2 µs later. */
    private static final long BASE = Long.MAX_VALUE - 1_000;

    private static final class T extends Timer {
        final String name;
        long offset; // deadline - BASE, without the wrap

        T(String name) {
            this.name = name;
        }

        @Override
        protected void onTimer(long now) {}

        @Override
        public String toString() {
            return name + "@" + offset;
        }
    }

    private static void schedule(TimerHeap heap, T t, long offset) {
        t.offset = offset;
        heap.add(t, BASE + offset);
    }

    @Test
    void aTimerRescheduledPastTheWrapGoesBehindTheEarlierOnes() {
        TimerHeap heap = new TimerHeap();
        T a = new T("a");
        T b = new T("b");
        T c = new T("c");
        schedule(heap, a, 100);
        schedule(heap, b, 200);
        schedule(heap, c, 300);
        schedule(heap, a, 2_000); // later, numerically smaller: a '<' comparison moved it the wrong way

        assertSame(b, heap.poll());
        assertSame(c, heap.poll());
        assertSame(a, heap.poll());
        assertNull(heap.peek());
    }

    @Test
    void aTimerRescheduledBackBeforeTheWrapComesFirst() {
        TimerHeap heap = new TimerHeap();
        T a = new T("a");
        T b = new T("b");
        schedule(heap, a, 1_500);
        schedule(heap, b, 2_000);
        schedule(heap, b, 500); // earlier, numerically larger

        assertSame(b, heap.poll());
        assertSame(a, heap.poll());
    }

    /** Random adds, reschedules and cancels around the wrap; the heap always yields the earliest deadline. */
    @Test
    void deadlinesStraddlingTheWrapComeOutInTimeOrder() {
        for (long seed = 1; seed <= 200; seed++) {
            Random r = new Random(seed);
            TimerHeap heap = new TimerHeap();
            List<T> timers = new ArrayList<>();
            for (int i = 0; i < 40; i++) timers.add(new T("t" + i));
            List<T> scheduled = new ArrayList<>();
            for (int step = 0; step < 400; step++) {
                T t = timers.get(r.nextInt(timers.size()));
                if (r.nextInt(5) == 0) {
                    heap.remove(t);
                    scheduled.remove(t);
                } else {
                    schedule(heap, t, r.nextInt(4_000)); // 0..3999: about half before the wrap, half after
                    if (!scheduled.contains(t)) scheduled.add(t);
                }
                assertEquals(scheduled.size(), heap.size(), "seed " + seed);
                if (!scheduled.isEmpty()) {
                    long earliest = scheduled.stream().mapToLong(x -> x.offset).min().getAsLong();
                    assertEquals(earliest, ((T) heap.peek()).offset, "seed " + seed + ", step " + step);
                }
            }
            scheduled.sort(Comparator.comparingLong(x -> x.offset));
            List<Long> expected = new ArrayList<>();
            for (T t : scheduled) expected.add(t.offset);
            List<Long> polled = new ArrayList<>();
            while (heap.size() > 0) polled.add(((T) heap.poll()).offset);
            assertEquals(expected, polled, "seed " + seed);
        }
    }
}
