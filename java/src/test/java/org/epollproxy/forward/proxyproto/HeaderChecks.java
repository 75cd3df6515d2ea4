package org.epollproxy.forward.proxyproto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the PROXY header parser must do with any bytes, shared by the unit test and the fuzzer: no
 * exception; "more" only while the prefix can still become a header, asking for a bounded number of bytes
 * that never takes the total past {@link HeaderParser#MAX_HEADER}; once an outcome is reached, every
 * longer prefix gives the same outcome (pieces never change the verdict); a header never claims more
 * bytes than it was given or than the bound.
 */
public final class HeaderChecks {

    public static void check(byte[] b) {
        HeaderParser.Result first = null;
        int at = -1;
        for (int n = 0; n <= b.length; n++) {
            HeaderParser.Result r = HeaderParser.parse(b, n);
            if (first == null) {
                if (r.needsMore()) {
                    int want = HeaderParser.wanted(b, n);
                    assertTrue(want >= 1 && n + want <= HeaderParser.MAX_HEADER, "wanted " + want + " after " + n + " bytes");
                    assertTrue(n < HeaderParser.MAX_HEADER, "still more wanted after " + n + " bytes");
                    continue;
                }
                first = r;
                at = n;
                if (r.header() != null) {
                    assertTrue(r.header().length() <= n && r.header().length() <= HeaderParser.MAX_HEADER, "length " + r.header().length());
                    assertEquals(r.header().source() == null, r.header().destination() == null);
                }
                continue;
            }
            assertEquals(first.error() != null, r.error() != null, "verdict changed between " + at + " and " + n + " bytes");
            if (first.header() != null) assertEquals(first.header(), r.header(), "header changed with more bytes");
        }
    }

    private HeaderChecks() {}
}
