package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import org.junit.jupiter.api.Test;

/** The check the bulk-transfer tests rely on finds each way a stream can go wrong, and names where. */
class SeededStreamTest {
    static byte[] stream(long seed, int size) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SeededStream.write(out, seed, size);
        assertEquals(size, out.size());
        return out.toByteArray();
    }

    static String verdict(long seed, byte[] got) throws Exception {
        return SeededStream.read(new ByteArrayInputStream(got), seed);
    }

    @Test
    void anIntactStreamPassesAndEveryKindOfDamageIsFoundAtItsOffset() throws Exception {
        int size = 300_001; // several chunks, and not a whole number of 8-byte words
        byte[] s = stream(5, size);
        assertEquals(SeededStream.intact(size), verdict(5, s));
        assertNotEquals(SeededStream.intact(size), verdict(6, s), "another seed's stream (the other direction)");

        byte[] flipped = s.clone();
        flipped[200_000] ^= 1;
        assertEquals(size + " bytes, the first wrong one at offset 200000", verdict(5, flipped));

        byte[] lost = new byte[size - 1]; // byte 1000 lost
        System.arraycopy(s, 0, lost, 0, 1000);
        System.arraycopy(s, 1001, lost, 1000, size - 1001);
        assertNotEquals(SeededStream.intact(size), verdict(5, lost));

        byte[] swapped = s.clone(); // two 8-byte words reordered
        System.arraycopy(s, 80_000, swapped, 80_008, 8);
        System.arraycopy(s, 80_008, swapped, 80_000, 8);
        assertEquals(size + " bytes, the first wrong one at offset 80000", verdict(5, swapped));

        byte[] truncated = java.util.Arrays.copyOf(s, size - 10);
        assertEquals(SeededStream.intact(size - 10), verdict(5, truncated));
        assertNotEquals(SeededStream.intact(size), verdict(5, truncated));
    }
}
