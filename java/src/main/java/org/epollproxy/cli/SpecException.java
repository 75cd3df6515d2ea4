package org.epollproxy.cli;

/**
 * A forward specification or config line that does not parse: the message names the bad part and
 * {@link #position()} is the 0-based column where it starts. The only exception the parsers throw.
 */
public final class SpecException extends Exception {
    private final int position;

    public SpecException(String message, int position) {
        super(message);
        this.position = position;
    }

    public int position() {
        return position;
    }
}
