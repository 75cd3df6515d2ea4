package org.epollproxy.forward;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Random;

/**
 * A stream of pseudo-random bytes that both ends compute from its seed: the writer sends it in chunks of
 * varying sizes, the reader compares every byte it gets with the byte due at that offset. A byte lost,
 * duplicated, reordered or taken from the other direction's stream (another seed) is found, and the
 * offset of the first one named. (A SHA-256 of what each end saw, compared after, found the same and named
 * nothing; in the test JVM, C1 only, hashing and java.util.Random cost several times the CPU of the
 * proxy's own work on a bulk transfer.)
 */
final class SeededStream {
    private static final int CHUNK = 64 * 1024;

    private SeededStream() {}

    /** Bytes {@code 8k .. 8k+7} of the stream of {@code seed}, little end first: SplitMix64's finaliser of (seed, k). */
    static long word(long seed, long k) {
        long z = seed * 0x9E3779B97F4A7C15L + k * 0xD1B54A32D192ED03L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Bytes {@code offset .. offset+n-1} of the stream of {@code seed} into {@code b} from {@code off}. */
    static void fill(long seed, long offset, byte[] b, int off, int n) {
        long w = word(seed, offset >>> 3);
        for (int i = 0; i < n; i++) {
            long p = offset + i;
            if ((p & 7) == 0) w = word(seed, p >>> 3);
            b[off + i] = (byte) (w >>> ((p & 7) << 3));
        }
    }

    /** Writes the first {@code total} bytes of the stream of {@code seed}. */
    static void write(OutputStream out, long seed, long total) throws IOException {
        Random sizes = new Random(seed);
        byte[] chunk = new byte[CHUNK];
        long sent = 0;
        while (sent < total) {
            // vary chunk sizes so sends do not line up with the proxy's buffer
            int n = (int) Math.min(1 + sizes.nextInt(CHUNK), total - sent);
            fill(seed, sent, chunk, 0, n);
            out.write(chunk, 0, n);
            sent += n;
        }
        out.flush();
    }

    /** Reads {@code in} to EOF; {@link Check#verdict} of what came. Reads on after a wrong byte, so the writer never stalls. */
    static String read(InputStream in, long seed) throws IOException {
        Check check = new Check(seed);
        byte[] b = new byte[2 * CHUNK];
        int n;
        while ((n = in.read(b)) > 0) check.update(b, 0, n);
        return check.verdict();
    }

    /** What {@code total} bytes of the stream of {@code seed} that all arrived intact get as their {@link Check#verdict}. */
    static String intact(long total) {
        return total + " bytes, intact";
    }

    /** Bytes as they arrive, compared with the stream of a seed. */
    static final class Check {
        private final long seed;
        private final byte[] due = new byte[2 * CHUNK];
        private long received;
        private long firstWrong = -1;

        Check(long seed) {
            this.seed = seed;
        }

        void update(byte[] b, int off, int n) {
            while (n > 0) {
                int m = Math.min(n, due.length);
                fill(seed, received, due, 0, m);
                if (firstWrong < 0) {
                    int i = Arrays.mismatch(b, off, off + m, due, 0, m);
                    if (i >= 0) firstWrong = received + i;
                }
                received += m;
                off += m;
                n -= m;
            }
        }

        /** {@link #intact}{@code (count)} when every byte was the one due at its offset; else the first wrong one. */
        String verdict() {
            return firstWrong < 0 ? intact(received) : received + " bytes, the first wrong one at offset " + firstWrong;
        }
    }
}
