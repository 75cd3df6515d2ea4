package org.epollproxy.config;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads a configuration file as text with a bound: at most {@link #MAX_BYTES} are read whatever the file
 * is ({@code /dev/zero} included), and a byte that is not UTF-8 is an error naming its line, not a guess.
 */
final class ConfigText {
    /** A rinetd.conf of 100,000 forwards is about 4 MiB; anything beyond 16 MiB is not a config file. */
    static final int MAX_BYTES = 16 << 20;

    /** The file's text, or a {@link SpecException} (too large, not UTF-8) naming what is wrong. */
    static String read(Path path) throws IOException, SpecException {
        return decode(readBounded(path, MAX_BYTES));
    }

    static byte[] readBounded(Path path, int max) throws IOException, SpecException {
        if (Files.isRegularFile(path)) {
            long size = Files.size(path);
            if (size > max) throw tooLarge(size + " bytes", max);
        }
        try (InputStream in = Files.newInputStream(path)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] chunk = new byte[64 << 10];
            long total = 0;
            for (int n; (n = in.read(chunk)) > 0; ) {
                total += n;
                if (total > max) throw tooLarge("more than " + max + " bytes (a device or a growing file?)", max);
                out.write(chunk, 0, n);
            }
            return out.toByteArray();
        }
    }

    private static SpecException tooLarge(String size, int max) {
        return new SpecException("the file is too large to be a configuration: " + size + ", the limit is "
                + (max >> 20) + " MiB", -1, 0);
    }

    /** Strict UTF-8; the first malformed byte is reported with its line and character. */
    static String decode(byte[] bytes) throws SpecException {
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            return d.decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return badByte(bytes);
        }
    }

    /** Finds the first byte that does not decode, line by line, and throws naming it. */
    private static String badByte(byte[] bytes) throws SpecException {
        int line = 1;
        int start = 0;
        for (int i = 0; i <= bytes.length; i++) {
            if (i < bytes.length && bytes[i] != '\n') continue;
            CharsetDecoder d = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT);
            ByteBuffer in = ByteBuffer.wrap(bytes, start, i - start);
            CharBuffer out = CharBuffer.allocate(i - start + 1);
            var r = d.decode(in, out, true);
            if (r.isError()) {
                int bad = bytes[in.position()] & 0xff;
                throw new SpecException(String.format("the file is not UTF-8 text: byte 0x%02x cannot start or "
                        + "continue a character (save the file as UTF-8)", bad), out.position(), line);
            }
            line++;
            start = i + 1;
        }
        throw new SpecException("the file is not UTF-8 text", -1, 0); // the whole-file decode disagreed: cannot happen
    }

    private ConfigText() {}
}
