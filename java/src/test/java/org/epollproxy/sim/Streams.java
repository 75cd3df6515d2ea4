package org.epollproxy.sim;

/**
 * The bytes each simulated peer sends: byte {@code i} of stream {@code id} is a pure function of both,
 * so a receiver checks every byte without anyone storing what was sent. The first {@link #HEADER}
 * bytes are the stream id itself, so a backend learns from the data which client it is paired with
 * (the simulation never asks the proxy), and a byte delivered to the wrong connection is caught.
 */
final class Streams {
    static final int HEADER = 4;

    static byte at(int id, long i) {
        if (i < HEADER) return (byte) (id >>> (8 * (HEADER - 1 - i)));
        return (byte) (block(id, i >>> 3) >>> (8 * (i & 7)));
    }

    /** Eight bytes of stream {@code id} at once (bytes 8k..8k+7 come from block k): one mix per 8 bytes. */
    private static long block(int id, long k) {
        long z = id * 0x9E3779B97F4A7C15L + k;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    static void fill(int id, long from, byte[] dst, int off, int len) {
        int i = 0;
        for (; i < len && from + i < HEADER; i++) dst[off + i] = at(id, from + i);
        while (i < len) {
            long pos = from + i;
            long bits = block(id, pos >>> 3);
            if ((pos & 7) == 0 && len - i >= 8) { // a whole block: the simulation's most frequent case, unrolled
                int d = off + i;
                dst[d] = (byte) bits;
                dst[d + 1] = (byte) (bits >>> 8);
                dst[d + 2] = (byte) (bits >>> 16);
                dst[d + 3] = (byte) (bits >>> 24);
                dst[d + 4] = (byte) (bits >>> 32);
                dst[d + 5] = (byte) (bits >>> 40);
                dst[d + 6] = (byte) (bits >>> 48);
                dst[d + 7] = (byte) (bits >>> 56);
                i += 8;
                continue;
            }
            for (int b = (int) (pos & 7); b < 8 && i < len; b++, i++) dst[off + i] = (byte) (bits >>> (8 * b));
        }
    }

    private Streams() {}
}
