package org.epollproxy.cli;

import org.epollproxy.config.OptionValues;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Every time option's value, in the one grammar of {@link OptionValues#duration}: {@code 500ms},
 * {@code 5s}, {@code 2m}, {@code 1h}, or a bare number in the option's own unit. Gives milliseconds.
 * picocli makes converters with no arguments, so the two bare units are the two subclasses below.
 */
class DurationConverter implements ITypeConverter<Long> {
    private final long bareUnitMillis;
    private final boolean wholeSeconds;

    DurationConverter(long bareUnitMillis, boolean wholeSeconds) {
        this.bareUnitMillis = bareUnitMillis;
        this.wholeSeconds = wholeSeconds;
    }

    @Override
    public Long convert(String value) {
        try {
            return wholeSeconds ? OptionValues.seconds(value) * 1000 : OptionValues.duration(value, bareUnitMillis);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage().replace('"', '\''));
        }
    }

    /** A bare number is milliseconds ({@code --connect-timeout 500}). */
    static final class Millis extends DurationConverter {
        Millis() {
            super(1, false);
        }
    }

    /** A bare number is seconds, and the option counts whole seconds ({@code --idle-timeout 300}). */
    static final class Seconds extends DurationConverter {
        Seconds() {
            super(1000, true);
        }
    }

    /** A duration as a user would write it: the largest unit that divides it, 25h, 90s, 1500ms. */
    static String format(long millis) {
        if (millis != 0 && millis % 3_600_000 == 0) return millis / 3_600_000 + "h";
        if (millis != 0 && millis % 60_000 == 0) return millis / 60_000 + "m";
        if (millis != 0 && millis % 1000 == 0) return millis / 1000 + "s";
        return millis + "ms";
    }

    /** Milliseconds to the whole seconds of an option that counts them (the converter checked it). */
    static int toSeconds(long millis) {
        return (int) Math.min(Integer.MAX_VALUE, millis / 1000);
    }
}
