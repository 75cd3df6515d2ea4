package org.epollproxy.shim;

import com.kenai.jffi.MemoryIO;

/**
 * Plain C-heap memory addressed by a {@code long}: malloc, free, and copying bytes in. The forwarding
 * buffers live here rather than in direct ByteBuffers: no object, no Cleaner per buffer, and memory goes
 * back to the C heap the moment it is freed instead of whenever the GC runs. This is the only door from
 * the forwarding code to jffi's memory calls.
 */
public final class NativeMemory {
    private static final MemoryIO MEM = MemoryIO.getInstance();

    /** malloc(size): an address, or 0 if the C heap refused (contents undefined). */
    public static long allocate(int size) {
        return MEM.allocateMemory(size, false);
    }

    /** free(address); address must come from {@link #allocate}. */
    public static void free(long address) {
        MEM.freeMemory(address);
    }

    /** Copies {@code src[off, off+len)} to {@code address}. */
    public static void put(long address, byte[] src, int off, int len) {
        MEM.putByteArray(address, src, off, len);
    }

    /** Copies {@code len} bytes at {@code address} into {@code dst[off, off+len)}. */
    public static void get(long address, byte[] dst, int off, int len) {
        MEM.getByteArray(address, dst, off, len);
    }

    /**
     * A direct ByteBuffer over {@code [address, address+len)}: no copy, no ownership (the memory stays the
     * caller's, and the view must not outlive it). The JDK's SSLEngine reads and writes the loop's buffers through these.
     */
    public static java.nio.ByteBuffer view(long address, int len) {
        return MEM.newDirectByteBuffer(address, len);
    }

    /** memmove of {@code len} bytes from {@code src} to {@code dst} (the ranges may overlap). */
    public static void move(long src, long dst, int len) {
        if (len > 0) MEM.memmove(dst, src, len);
    }

    private NativeMemory() {}
}
