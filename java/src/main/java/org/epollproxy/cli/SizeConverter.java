package org.epollproxy.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** "65536", "64k", "1m" (binary multiples, case-insensitive) to bytes, within 1k..64m. */
public final class SizeConverter implements ITypeConverter<Integer> {
    static final long MIN = 1024;
    static final long MAX = 64L << 20;

    @Override
    public Integer convert(String value) {
        String v = value.trim().toLowerCase(java.util.Locale.ROOT);
        long mult = 1;
        if (v.endsWith("k") || v.endsWith("m")) {
            mult = v.endsWith("k") ? 1024 : 1024 * 1024;
            v = v.substring(0, v.length() - 1);
        }
        if (v.isEmpty() || v.length() > 9 || !org.epollproxy.config.Digits.ascii(v)) {
            throw new TypeConversionException("'" + value + "' is not a size: digits 0-9 and an optional k or m (examples: 16384, 64k, 1m)");
        }
        long bytes = Long.parseLong(v) * mult;
        if (bytes < MIN || bytes > MAX) {
            throw new TypeConversionException("'" + value + "' is out of range: 1k to 64m");
        }
        return (int) bytes;
    }
}
