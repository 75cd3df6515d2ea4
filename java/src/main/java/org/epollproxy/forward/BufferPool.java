package org.epollproxy.forward;

import java.util.Arrays;
import org.epollproxy.shim.NativeMemory;

/**
 * Fixed-size native buffers for one event loop (single-threaded, no locks), handed out only while
 * bytes are in flight: a direction takes one to recv into and gives it back as soon as everything was
 * sent, so an idle connection holds no buffer at all.
 *
 * <p>Buffers are plain malloc'd memory ({@link NativeMemory}), addressed by a
 * {@code long}: no ByteBuffer object, no Cleaner, and memory is returned to the C heap the moment the
 * pool frees it instead of whenever the GC runs. Up to {@code maxIdle} free buffers are kept for reuse;
 * beyond that they are freed.
 */
public final class BufferPool implements AutoCloseable {
    private final int bufferSize;
    private final int maxIdle;
    private long[] idle = new long[16];
    private int idleCount;
    private long inUse;
    private long allocated;
    private long peakInUse;

    public BufferPool(int bufferSize, int maxIdle) {
        if (bufferSize <= 0) throw new IllegalArgumentException("buffer size must be positive: " + bufferSize);
        this.bufferSize = bufferSize;
        this.maxIdle = maxIdle;
    }

    public int bufferSize() {
        return bufferSize;
    }

    /** A buffer of {@link #bufferSize()} bytes (contents undefined). */
    public long take() {
        inUse++;
        if (inUse > peakInUse) peakInUse = inUse;
        if (idleCount > 0) return idle[--idleCount];
        long addr = NativeMemory.allocate(bufferSize);
        if (addr == 0) {
            inUse--;
            throw new OutOfMemoryError("malloc(" + bufferSize + ") failed for a forwarding buffer");
        }
        allocated++;
        return addr;
    }

    public void give(long addr) {
        inUse--;
        if (idleCount < maxIdle) {
            if (idleCount == idle.length) idle = Arrays.copyOf(idle, idleCount * 2);
            idle[idleCount++] = addr;
        } else {
            NativeMemory.free(addr);
            allocated--;
        }
    }

    /** Buffers currently held by connections. */
    public long inUse() {
        return inUse;
    }

    /** Highest {@link #inUse()} seen. */
    public long peakInUse() {
        return peakInUse;
    }

    /** Bytes of native memory the pool holds now (in use plus idle). */
    public long allocatedBytes() {
        return allocated * bufferSize;
    }

    /** Frees the idle buffers (buffers still in use belong to their connections). */
    @Override
    public void close() {
        while (idleCount > 0) {
            NativeMemory.free(idle[--idleCount]);
            allocated--;
        }
    }
}
