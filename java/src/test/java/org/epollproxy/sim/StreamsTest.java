package org.epollproxy.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** fill (eight bytes per mix, what senders write and receivers compare) agrees with at, byte by byte. */
class StreamsTest {

    @Test
    void fillMatchesAtForEveryOffsetAndLength() {
        SplittableRandom r = new SplittableRandom(1);
        byte[] buf = new byte[64];
        for (int round = 0; round < 10_000; round++) {
            int id = r.nextInt();
            long from = r.nextInt(40);
            int off = r.nextInt(8), len = r.nextInt(buf.length - off);
            Streams.fill(id, from, buf, off, len);
            for (int i = 0; i < len; i++) assertEquals(Streams.at(id, from + i), buf[off + i], "stream " + id + " byte " + (from + i));
        }
    }

    @Test
    void aLostByteOrAnotherStreamShowsInEveryBlockOfEight() {
        byte[] a = new byte[4096], lost = new byte[4096], other = new byte[4096];
        Streams.fill(7, 0, a, 0, a.length);
        Streams.fill(7, 1, lost, 0, lost.length); // what a receiver sees when byte 0 went missing
        Streams.fill(8, 0, other, 0, other.length);
        for (int block = 1; block < a.length / 8; block++) {
            int from = block * 8, to = from + 8;
            assertNotEquals(-1, java.util.Arrays.mismatch(a, from, to, lost, from, to), "block " + block + " with a byte lost");
            assertNotEquals(-1, java.util.Arrays.mismatch(a, from, to, other, from, to), "block " + block + " of stream 8");
        }
    }
}
