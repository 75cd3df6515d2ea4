package org.epollproxy.shim;

import com.kenai.jffi.MemoryIO;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A block of native memory owned by Java: a direct ByteBuffer (freed by its Cleaner once unreachable)
 * and its base address, computed once. Shim calls take {@code address() + offset}; holding this object
 * keeps the memory alive for as long as the address is in use (the address is a plain long that keeps nothing alive).
 *
 * <p>Read and write it with absolute ByteBuffer methods ({@code getInt(i)}, {@code get(i, dst)}):
 * its position and limit are never used, so no state hides in the buffer.
 */
public final class NativeBuffer {
    private final ByteBuffer buffer;
    private final long address;

    private NativeBuffer(ByteBuffer buffer) {
        this.buffer = buffer;
        this.address = MemoryIO.getInstance().getDirectBufferAddress(buffer);
        if (address == 0) throw new IllegalStateException("direct buffer without an address");
    }

    public static NativeBuffer allocate(int capacity) {
        return new NativeBuffer(ByteBuffer.allocateDirect(capacity).order(ByteOrder.nativeOrder()));
    }

    public ByteBuffer buffer() {
        return buffer;
    }

    public long address() {
        return address;
    }

    public int capacity() {
        return buffer.capacity();
    }
}
