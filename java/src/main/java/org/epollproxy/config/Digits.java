package org.epollproxy.config;

/**
 * Whether a string is ASCII digits 0-9 only ({@code Integer.parseInt} also takes Arabic-Indic and other
 * digits). A loop, not {@code chars().allMatch}: that stream pipeline was about 25 JDK classes loaded at
 * every start only for this, each costing idle RSS (docs/tuning.md).
 */
public final class Digits {
    /** True when {@code s} is not empty and every char is '0'-'9'. */
    public static boolean ascii(String s) {
        if (s.isEmpty()) return false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') return false;
        }
        return true;
    }

    private Digits() {}
}
