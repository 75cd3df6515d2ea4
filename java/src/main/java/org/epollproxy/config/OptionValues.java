package org.epollproxy.config;

/**
 * Values shared by the command line and the config file's options: durations and check strings.
 */
public final class OptionValues {

    /** The duration grammar's units, in milliseconds. */
    private static final String[][] UNITS = {{"ms", "1"}, {"s", "1000"}, {"m", "60000"}, {"h", "3600000"}};

    /**
     * The one duration grammar of every time option, on the command line and in the config file: digits
     * and a unit, {@code 500ms}, {@code 5s}, {@code 2m}, {@code 1h}; a bare number counts in
     * {@code bareUnitMillis} (each option documents its own, as it always has). Returns milliseconds;
     * IllegalArgumentException saying what is expected otherwise.
     */
    public static long duration(String s, long bareUnitMillis) {
        String digits = s;
        long unit = bareUnitMillis;
        for (String[] u : UNITS) {
            if (s.endsWith(u[0]) && s.length() > u[0].length()
                    && Character.isDigit(s.charAt(s.length() - u[0].length() - 1))) {
                digits = s.substring(0, s.length() - u[0].length());
                unit = Long.parseLong(u[1]);
                break;
            }
        }
        if (!digits.matches("[0-9]{1,9}")) {
            throw new IllegalArgumentException("\"" + s + "\" is not a duration: digits and a unit, ms, s, m or h "
                    + "(500ms, 5s, 2m)");
        }
        return Long.parseLong(digits) * unit;
    }

    /** A duration counted in whole seconds (a bare number is seconds): {@code 90}, {@code 90s}, {@code 2m}. */
    public static long seconds(String s) {
        long ms = duration(s, 1000);
        if (ms % 1000 != 0) throw new IllegalArgumentException("\"" + s + "\" is not a whole number of seconds");
        return ms / 1000;
    }

    /**
     * A duration of 1 ms to 24 h where a bare number is seconds ({@code 10}, {@code 10s}, {@code 500ms},
     * {@code 2m}). Returns milliseconds; IllegalArgumentException saying what is expected otherwise.
     */
    public static int millis(String s) {
        long v = duration(s, 1000);
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
