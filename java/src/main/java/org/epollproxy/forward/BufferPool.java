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
    /** Where buffers come from: malloc/free, or a test's stand-in that refuses. */
    public interface Allocator {
        /** An address of {@code size} bytes, or 0 if memory is exhausted. */
        long allocate(int size);

        void free(long address);
    }

    /** The C heap ({@link NativeMemory}). */
    public static final Allocator MALLOC = new Allocator() {
        @Override
        public long allocate(int size) {
            return NativeMemory.allocate(size);
        }

        @Override
        public void free(long address) {
            NativeMemory.free(address);
        }
    };

    /**
     * malloc refused a buffer: the connection that needed it ends (its handler's failure path), the loop
     * and every other connection go on. A RuntimeException on purpose: an Error would end the loop.
     */
    public static final class OutOfBuffers extends RuntimeException {
        OutOfBuffers(String message) {
            super(message, null, false, false); // no stack trace: it is an outcome, not a bug
        }
    }

    private final int bufferSize;
    private final int maxIdle;
    /** Idle buffers {@link #trimIdle} keeps whatever happened: enough for a quiet loop's few transfers. */
    private final int floor;
    /** The fewest idle buffers since the last {@link #trimIdle}: the ones above it were not needed. */
    private int lowIdle;
    /** Buffers freed since {@link #freedSinceLastAsk}: memory malloc holds and could give back. */
    private long freedSinceAsk;
    private Allocator allocator = MALLOC;
    private long[] idle = new long[16];
    private int idleCount;
    private long inUse;
    private long allocated;
    private long peakInUse;
    /** After {@link #close}: a buffer given back (a send the kernel held, --io-uring) is freed, not kept. */
    private boolean closed;

    public BufferPool(int bufferSize, int maxIdle) {
        this(bufferSize, maxIdle, maxIdle);
    }

    /** @param floor idle buffers {@link #trimIdle} never frees (at most {@code maxIdle}) */
    public BufferPool(int bufferSize, int maxIdle, int floor) {
        if (bufferSize <= 0) throw new IllegalArgumentException("buffer size must be positive: " + bufferSize);
        this.bufferSize = bufferSize;
        this.maxIdle = maxIdle;
        this.floor = Math.min(floor, maxIdle);
    }

    /**
     * Called once per quiet period: frees the idle buffers that stayed idle the whole period (the
     * fewest idle seen since the last call), down to the floor, so a burst's buffers go back once it
     * is over while a steady load keeps what it keeps using. Returns how many were freed.
     */
    public int trimIdle() {
        int surplus = Math.min(lowIdle, idleCount) - floor;
        int freed = surplus > 0 ? trimTo(idleCount - surplus) : 0;
        lowIdle = idleCount;
        return freed;
    }

    /** Idle buffers above the floor: a {@link #trimIdle} may have something to free. */
    public boolean aboveFloor() {
        return idleCount > floor;
    }

    /** Buffers were freed since {@link #freedSinceLastAsk} was last called. */
    public boolean freedSinceLastAskPending() {
        return freedSinceAsk > 0;
    }

    /** Buffers freed (to malloc) since the last call; then 0. Non-zero: malloc may hold memory to give back. */
    public long freedSinceLastAsk() {
        long n = freedSinceAsk;
        freedSinceAsk = 0;
        return n;
    }

    /** Replaces malloc/free (tests inject a failing allocator); buffers held now must be freed by the same. */
    public void allocator(Allocator a) {
        this.allocator = a;
    }

    public int bufferSize() {
        return bufferSize;
    }

    /** A buffer of {@link #bufferSize()} bytes (contents undefined); {@link OutOfBuffers} if malloc fails. */
    public long take() {
        inUse++;
        // No branch: a new peak comes with a new pool's first connections and with bursts, which the JIT's
        // steady-state profile lacks; a branch here was compiled out, and the real forward's first connection
        // after a --warmup threw the compiled accept path away (an uncommon trap) and recompiled it.
        peakInUse = Math.max(peakInUse, inUse);
        if (idleCount > 0) {
            long addr = idle[--idleCount];
            if (idleCount < lowIdle) lowIdle = idleCount;
            return addr;
        }
        lowIdle = 0;
        long addr = allocator.allocate(bufferSize);
        if (addr == 0) {
            inUse--;
            throw new OutOfBuffers("malloc(" + bufferSize + ") failed for a forwarding buffer");
        }
        allocated++;
        return addr;
    }

    public void give(long addr) {
        inUse--;
        if (idleCount < maxIdle && !closed) {
            if (idleCount == idle.length) idle = Arrays.copyOf(idle, idleCount * 2);
            idle[idleCount++] = addr;
        } else {
            allocator.free(addr);
            allocated--;
            freedSinceAsk++;
        }
    }

    /** Free buffers kept for reuse. */
    public int idle() {
        return idleCount;
    }

    /** Frees idle buffers beyond {@code keep}; returns how many were freed. */
    public int trimTo(int keep) {
        int freed = 0;
        while (idleCount > Math.max(0, keep)) {
            allocator.free(idle[--idleCount]);
            allocated--;
            freed++;
            freedSinceAsk++;
        }
        return freed;
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

    /**
     * Frees the idle buffers. Buffers still in use belong to their connections, or to a send the kernel
     * holds ({@code --io-uring}), which gives its buffer back when it ends: freed then.
     */
    @Override
    public void close() {
        closed = true;
        while (idleCount > 0) {
            allocator.free(idle[--idleCount]);
            allocated--;
        }
    }
}
