package org.epollproxy.config;

/**
 * A forward specification or config line that does not parse: the message names the bad part,
 * {@link #position()} is the 0-based column where it starts and {@link #line()} the 1-based line of a
 * config file (0 for a command-line argument). The only exception the parsers throw.
 */
public final class SpecException extends Exception {
    private final int position;
    private final int line;

    public SpecException(String message, int position) {
        this(message, position, 0);
    }

    public SpecException(String message, int position, int line) {
        super(message);
        this.position = position;
        this.line = line;
    }

    public int position() {
        return position;
    }

    public int line() {
        return line;
    }
}
