package org.epollproxy.forward.preread;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A client that trickles its ClientHello one byte at a time costs the pre-read work linear in the hello's
 * length: each read looks at the new bytes only, never the whole prefix again. Work is counted in bytes
 * the parser looked at (not time), so the bound holds on a busy machine.
 */
class PrereadWorkTest {
    static final int CAP = 16 * 1024;

    /** Feeds {@code b} one byte at a time to one classifier; returns the work it did. */
    static long trickle(byte[] b) {
        FirstBytes c = new FirstBytes(CAP);
        for (int n = 1; n < b.length; n++) assertFalse(c.next(b, n, false).decided(), "decided after " + n + " of " + b.length);
        FirstBytes.Verdict v = c.next(b, b.length, false);
        assertEquals(FirstBytes.Proto.TLS, v.proto());
        assertEquals("big.example", v.sni());
        assertEquals(v, FirstBytes.classify(b, b.length, false, CAP), "the same verdict as the hello in one piece");
        return c.work();
    }

    @Test
    void aSixteenKibHelloTrickledByteByByteCostsLinearWork() {
        byte[] m = Hellos.message(List.of(Hellos.sni("big.example"), Hellos.raw(21, 16_000)));
        byte[] hello = Hellos.records(m, 1 << 14);
        assertTrue(hello.length > 16_000 && hello.length <= CAP, "nearly the cap: " + hello.length);
        long work = trickle(hello);
        assertTrue(work <= 3L * hello.length, "work " + work + " for a hello of " + hello.length + " bytes (quadratic: ~"
                + (long) hello.length * hello.length / 2 + ")");
    }

    @Test
    void aHelloInOneByteRecordsTrickledByteByByteCostsLinearWorkToo() {
        byte[] m = Hellos.message(List.of(Hellos.sni("big.example"), Hellos.raw(21, 2_400)));
        byte[] hello = Hellos.records(m, 1); // six bytes on the wire per byte of the message
        assertTrue(hello.length > 15_000 && hello.length <= CAP, "nearly the cap: " + hello.length);
        long work = trickle(hello);
        assertTrue(work <= 3L * hello.length, "work " + work + " for a hello of " + hello.length + " bytes");
    }

    @Test
    void theParseKeptBetweenReadsAnswersAsAFreshParseOfEachPrefix() {
        java.util.Random rnd = new java.util.Random(26);
        for (int round = 0; round < 300; round++) {
            byte[] m = Hellos.message(List.of(Hellos.sni("n" + round + ".example"), Hellos.alpn("h2"), Hellos.raw(21, rnd.nextInt(3000))));
            byte[] b = Hellos.records(m, 1 + rnd.nextInt(round % 3 == 0 ? 50 : 20_000));
            if (round % 2 == 1) b[rnd.nextInt(b.length)] ^= (byte) (1 << rnd.nextInt(8)); // a flipped bit anywhere
            int cap = round % 5 == 0 ? 1 + rnd.nextInt(b.length) : CAP;
            ClientHello.Reader kept = new ClientHello.Reader(cap);
            for (int n = 0; n <= b.length; n += 1 + rnd.nextInt(40)) {
                ClientHello.Result fresh = ClientHello.parse(b, n, cap);
                assertEquals(fresh, kept.next(b, n), "round " + round + ", prefix " + n + " of " + b.length);
                if (fresh.kind() != ClientHello.Kind.MORE) break; // decided: later bytes only confirm it
            }
        }
    }
}
