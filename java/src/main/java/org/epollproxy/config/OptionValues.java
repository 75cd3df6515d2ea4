package org.epollproxy.config;

/**
 * Values shared by the command line and the config file's options: durations and check strings.
 */
public final class OptionValues {

    /**
     * A duration: {@code 10} or {@code 10s} (seconds), {@code 500ms}, {@code 5m}, {@code 24h}; 1 ms to 24 h,
     * both ends included (the message says "1ms-24h", so {@code 24h} itself must be accepted). Returns
     * milliseconds; IllegalArgumentException saying what is expected otherwise.
     */
    public static int millis(String s) {
        long v;
        String digits;
        int unit;
        if (s.endsWith("ms")) {
            digits = s.substring(0, s.length() - 2);
            unit = 1;
        } else if (s.endsWith("m") || s.endsWith("h")) {
            digits = s.substring(0, s.length() - 1);
            unit = s.endsWith("m") ? 60_000 : 3_600_000;
        } else {
            digits = s.endsWith("s") ? s.substring(0, s.length() - 1) : s;
            unit = 1000;
        }
        if (!digits.matches("\\d{1,9}")) throw new IllegalArgumentException("\"" + s + "\" is not a duration (seconds, or 500ms, 5m, 1h)");
        v = Long.parseLong(digits) * unit;
        if (v < 1 || v > 86_400_000L) throw new IllegalArgumentException("\"" + s + "\" is out of range 1ms-24h");
        return (int) v;
    }

    /**
     * A check string with C escapes: {@code \r \n \t \\ \xHH} (so {@code PING\r\n}, and a comma in a config
     * option as {@code \x2c}). 1-256 bytes. Returns one char per byte (ISO-8859-1).
     */
    public static String escaped(String s) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c > 0xff) throw new IllegalArgumentException("\"" + s + "\": only Latin-1 text or \\xHH escapes");
            if (c != '\\') {
                out.append(c);
                continue;
            }
            if (++i == s.length()) throw new IllegalArgumentException("\"" + s + "\" ends with a lone backslash");
            char e = s.charAt(i);
            switch (e) {
                case 'r' -> out.append('\r');
                case 'n' -> out.append('\n');
                case 't' -> out.append('\t');
                case '\\' -> out.append('\\');
                case 'x' -> {
                    String hex = i + 2 < s.length() ? s.substring(i + 1, i + 3) : "";
                    if (!hex.matches("[0-9a-fA-F]{2}")) throw new IllegalArgumentException("\"" + s + "\": \\x needs two hex digits");
                    out.append((char) Integer.parseInt(hex, 16));
                    i += 2;
                }
                default -> throw new IllegalArgumentException("\"" + s + "\": unknown escape \\" + e + " (known: \\r \\n \\t \\\\ \\xHH)");
            }
        }
        if (out.length() == 0 || out.length() > 256) throw new IllegalArgumentException("\"" + s + "\" must be 1-256 bytes");
        return out.toString();
    }

    /** A whole number in [min, max]; IllegalArgumentException naming the range otherwise. */
    public static int number(String s, int min, int max) {
        if (!s.matches("\\d{1,9}") || Integer.parseInt(s) < min || Integer.parseInt(s) > max) {
            throw new IllegalArgumentException("\"" + s + "\" is not a number " + min + "-" + max);
        }
        return Integer.parseInt(s);
    }

    private OptionValues() {}
}
