package org.epollproxy.shim;

/**
 * The name of jffi's stub library, made without {@link java.util.Formatter}.
 *
 * <p>jffi's {@code com.kenai.jffi.internal.StubLoader} names its library with
 * {@code String.format("jffi-%d.%d", major, minor)} when it loads, at every start. On JDK 21 and later a
 * {@code %d} makes the Formatter look up the default locale's digits ({@code DecimalFormatSymbols}, the CLDR
 * locale provider and its resource bundles: about 40 classes and their data), whatever the locale: about
 * 1 MiB of an idle proxy's RSS on JDK 25 (docs/tuning.md, "Memory and JVM flags"). The build
 * ({@code packaging/JffiStubNamePatch.java}, run after the shade) points that one call of the shaded jar's
 * StubLoader here instead. The result is the same string, in ASCII digits; any other format goes to
 * {@code String.format} as before.
 */
public final class JffiStubName {
    /** The one format jffi's StubLoader passes. */
    static final String STUB_FORMAT = "jffi-%d.%d";

    private JffiStubName() {}

    /** {@code String.format(format, args)}, without the Formatter for {@link #STUB_FORMAT} and two integers. */
    public static String format(String format, Object... args) {
        if (STUB_FORMAT.equals(format) && args != null && args.length == 2
                && args[0] instanceof Integer && args[1] instanceof Integer) {
            // A StringBuilder, not `+`: string concatenation compiles to an invokedynamic whose bootstrap
            // spins classes at run time, the kind of start-up cost this class is here to avoid.
            return new StringBuilder(16).append("jffi-").append((int) (Integer) args[0]).append('.')
                    .append((int) (Integer) args[1]).toString();
        }
        return String.format(format, args);
    }
}
