package org.epollproxy.cli;

import org.epollproxy.runtime.Warmup;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** {@code --warmup}'s value: {@code auto} (until the JIT is quiet, {@link Warmup#AUTO}) or a duration in ms. */
final class WarmupDuration implements ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
        if ("auto".equals(value)) return Warmup.AUTO;
        try {
            return new DurationConverter.Millis().convert(value);
        } catch (TypeConversionException e) {
            throw new TypeConversionException("'" + value + "' is neither auto nor a duration (500ms, 1s)");
        }
    }
}
