package org.epollproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;


/**
 * What every parser input must satisfy, shared by the property tests and the fuzzer: a result, or a
 * {@link SpecException} with a message and a position inside the input (and, for a config file, a line
 * of the file); never another exception. An accepted -L spec survives format() and a second parse.
 */
public final class ParserChecks {

    /** The parsed spec, or null when {@code text} was rejected properly. */
    public static ForwardSpec forwardSpec(String text) {
        try {
            ForwardSpec spec = ForwardSpec.parse(text, "tcp");
            assertEquals(spec, ForwardSpec.parse(spec.format(), "tcp"), "round trip of \"" + spec.format() + "\"");
            return spec;
        } catch (SpecException e) {
            assertTrue(e.position() >= 0 && e.position() <= text.length(),
                    "position " + e.position() + " outside \"" + text + "\" (" + e.getMessage() + ")");
            assertFalse(e.getMessage() == null || e.getMessage().isBlank(), "a message for \"" + text + "\"");
            assertEquals(0, e.line(), "a command-line argument has no line");
            return null;
        }
    }

    /** The parsed config, or null when {@code text} was rejected properly. */
    public static Config configFile(String text) {
        try {
            return ConfigParser.parse(text, "fuzz.conf");
        } catch (SpecException e) {
            String[] lines = text.split("\r?\n", -1);
            assertTrue(e.line() >= 1 && e.line() <= lines.length,
                    "line " + e.line() + " of " + lines.length + " (" + e.getMessage() + ") in:\n" + text);
            String line = lines[e.line() - 1];
            assertTrue(e.position() >= 0 && e.position() <= line.length(),
                    "column " + e.position() + " outside line " + e.line() + " \"" + line + "\" (" + e.getMessage() + ")");
            assertFalse(e.getMessage() == null || e.getMessage().isBlank(), "a message for line " + e.line());
            return null;
        }
    }

    private ParserChecks() {}
}
