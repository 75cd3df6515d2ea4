package org.epollproxy.forward;

/**
 * One direction of a pair (client to backend, or backend to client): the bytes read from {@code from}
 * and not yet sent to {@code to}, and whether {@code from}'s FIN was seen and passed on.
 *
 * <p>The buffer is taken from the pool only for the span of a recv/send and kept only while bytes
 * wait; {@code from} is read only when this direction holds nothing (backpressure: a slow {@code to}
 * stops us reading {@code from}, so memory per direction never exceeds one buffer).
 *
 * <p>With {@code --splice} the bytes wait in {@link #pipe} instead: {@code buf} stays 0 and
 * {@code [start, end)} counts the bytes in the pipe, so every rule above (pending, wantsRead, the
 * interest masks) holds unchanged for both paths.
 */
final class Direction {
    final Side from;
    final Side to;
    /** Native address of the buffer holding bytes [start, end), or 0 when none is held. */
    long buf;
    /** The zero-copy path ({@code --splice}); null for the copy path, or after falling back to it. */
    SplicePipe pipe;
    /** {@code buf} holds the PROXY protocol header: ours, sent before any byte of {@code from}, not counted. */
    boolean bufIsHeader;
    int start;
    int end;
    /** recv on {@code from} returned 0. */
    boolean eof;
    /** shutdown(to, SHUT_WR) was done, after the buffer drained. */
    boolean finSent;
    /** Bytes read from {@code from} / sent to {@code to}. */
    long bytesIn;
    long bytesOut;
    /** The part of {@code bytesOut} that went through the pipe (zero-copy). */
    long bytesSpliced;

    Direction(Side from, Side to) {
        this.from = from;
        this.to = to;
    }

    boolean pending() {
        return end > start;
    }

    int pendingBytes() {
        return end - start;
    }

    /** {@code from} may be read now: no FIN yet and nothing waiting to be sent. */
    boolean wantsRead() {
        return !eof && end == start;
    }

    /** Nothing more will ever cross this direction. */
    boolean done() {
        return finSent;
    }
}
