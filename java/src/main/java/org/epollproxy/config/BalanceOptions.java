package org.epollproxy.config;

import java.util.Locale;

/**
 * The balancing and health options of one config line, as written: each null when the line does not set
 * it (the command line's value, or the default, applies then).
 *
 * <pre>
 *   balance=first|roundrobin|leastconn|source   max_fails=N   fail_timeout=DURATION
 *   check=DURATION   rise=N   fall=N   check_send=TEXT   check_expect=TEXT
 * </pre>
 */
public record BalanceOptions(String policy, Integer maxFails, Integer failTimeoutMs, Integer checkMs, Integer rise,
        Integer fall, String checkSend, String checkExpect) {

    public static final BalanceOptions NONE = new BalanceOptions(null, null, null, null, null, null, null, null);

    public static final String POLICIES = "first, roundrobin, leastconn, source";
    static final String NAMES = "balance, max_fails, fail_timeout, check, rise, fall, check_send, check_expect";

    /** Collects the options of one line; each may be given once. */
    static final class Builder {
        private final Object[] v = new Object[8];

        /**
         * Takes {@code name=value} if it is one of these options (true), else false. Throws
         * IllegalArgumentException with the message for a bad value or a repeated option.
         */
        boolean accept(String name, String value) {
            int i;
            Object parsed;
            switch (name) {
                case "balance" -> {
                    i = 0;
                    String p = value.toLowerCase(Locale.ROOT);
                    if (!(", " + POLICIES + ",").contains(", " + p + ",")) {
                        throw new IllegalArgumentException("balance=" + value + ": expected one of " + POLICIES);
                    }
                    parsed = p;
                }
                case "max_fails" -> {
                    i = 1;
                    parsed = OptionValues.number(value, 0, 1000);
                }
                case "fail_timeout" -> {
                    i = 2;
                    parsed = OptionValues.millis(value);
                }
                case "check" -> {
                    i = 3;
                    parsed = OptionValues.millis(value);
                }
                case "rise" -> {
                    i = 4;
                    parsed = OptionValues.number(value, 1, 1000);
                }
                case "fall" -> {
                    i = 5;
                    parsed = OptionValues.number(value, 1, 1000);
                }
                case "check_send" -> {
                    i = 6;
                    parsed = OptionValues.escaped(value);
                }
                case "check_expect" -> {
                    i = 7;
                    parsed = OptionValues.escaped(value);
                }
                default -> {
                    return false;
                }
            }
            if (v[i] != null) throw new IllegalArgumentException(name + "= is given twice");
            v[i] = parsed;
            return true;
        }

        BalanceOptions build() {
            return new BalanceOptions((String) v[0], (Integer) v[1], (Integer) v[2], (Integer) v[3], (Integer) v[4],
                    (Integer) v[5], (String) v[6], (String) v[7]);
        }
    }

    /** True if the line sets anything about active checks but the interval. */
    boolean checkDetails() {
        return rise != null || fall != null || checkSend != null || checkExpect != null;
    }

    /** True if the line sets anything at all. */
    boolean any() {
        return !equals(NONE);
    }
}
