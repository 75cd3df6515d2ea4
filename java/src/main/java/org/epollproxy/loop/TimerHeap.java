package org.epollproxy.loop;

import java.util.Arrays;

/**
 * A binary min-heap of {@link Timer}s by deadline, each timer knowing its own index, so add, remove
 * and reschedule are O(log n) and a cancelled timer leaves nothing behind (a connect timeout that
 * never fires must not linger in the heap at 20,000 connections a second).
 *
 * <p>Deadlines are System.nanoTime() values, whose origin is arbitrary: they are compared as
 * {@code a - b < 0}, never {@code a < b}, so deadlines on both sides of the wrap to Long.MIN_VALUE
 * keep their order.
 */
final class TimerHeap {
    private Timer[] heap = new Timer[64];
    private int size;

    int size() {
        return size;
    }

    Timer peek() {
        return size == 0 ? null : heap[0];
    }

    void add(Timer t, long deadline) {
        if (t.heapIndex >= 0) {
            update(t, deadline);
            return;
        }
        if (size == heap.length) heap = Arrays.copyOf(heap, size * 2);
        t.deadline = deadline;
        t.heapIndex = size;
        heap[size++] = t;
        up(t.heapIndex);
    }

    void remove(Timer t) {
        int i = t.heapIndex;
        if (i < 0) return;
        Timer last = heap[--size];
        heap[size] = null;
        t.heapIndex = -1;
        if (i == size) return;
        heap[i] = last;
        last.heapIndex = i;
        if (!up(i)) down(i);
    }

    Timer poll() {
        Timer t = heap[0];
        remove(t);
        return t;
    }

    private void update(Timer t, long deadline) {
        long old = t.deadline;
        t.deadline = deadline;
        if (deadline - old < 0) up(t.heapIndex); // wrap-safe, like every nanoTime comparison here
        else down(t.heapIndex);
    }

    /** Moves heap[i] up; true if it moved. */
    private boolean up(int i) {
        Timer t = heap[i];
        int start = i;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            Timer p = heap[parent];
            if (p.deadline - t.deadline <= 0) break;
            heap[i] = p;
            p.heapIndex = i;
            i = parent;
        }
        heap[i] = t;
        t.heapIndex = i;
        return i != start;
    }

    private void down(int i) {
        Timer t = heap[i];
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            int right = child + 1;
            // The earlier child without a branch on which it is (1 from the sign bit when the right one is
            // earlier): with the few timers of a warm-up the right child was hardly ever earlier, the JIT left
            // that case out, and a real forward with more connections threw the compiled close path away.
            if (right < size) child += (int) ((heap[right].deadline - heap[child].deadline) >>> 63);
            if (t.deadline - heap[child].deadline <= 0) break;
            heap[i] = heap[child];
            heap[i].heapIndex = i;
            i = child;
        }
        heap[i] = t;
        t.heapIndex = i;
    }
}
