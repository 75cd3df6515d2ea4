package org.epollproxy.forward.preread;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the first-bytes classifier must do with any bytes, shared by the unit tests and the fuzzer: no
 * exception; "more" only below the cap; once a prefix decides, every longer prefix decides the same way
 * (pieces never change the verdict); a FIN after an undecided prefix always decides.
 */
public final class PrereadChecks {
    public static final int CAP = 4096;

    public static void check(byte[] input) {
        byte[] b = input.length > CAP + 16 ? java.util.Arrays.copyOf(input, CAP + 16) : input;
        FirstBytes.Verdict first = null;
        int at = -1;
        for (int n = 0; n <= Math.min(b.length, CAP); n++) {
            FirstBytes.Verdict v = FirstBytes.classify(b, n, false, CAP);
            assertTrue(FirstBytes.classify(b, n, true, CAP).decided(), "a FIN decides, after " + n + " bytes");
            if (first == null) {
                if (!v.decided()) {
                    assertTrue(n < CAP, "undecided at the cap");
                    continue;
                }
                first = v;
                at = n;
                if (v.end() != null) assertTrue(v.why() != null && !v.why().isEmpty(), "an end says why");
                continue;
            }
            assertEquals(first, v, "verdict changed between " + at + " and " + n + " bytes");
        }
    }

    private PrereadChecks() {}
}
