package org.epollproxy.runtime;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.Charset;

/**
 * The proxy's stderr, where its log lines go, and the sink of the warm-up's private forward: the same
 * classes (a PrintStream that flushes each line straight into a FileOutputStream, in stderr's charset), so
 * that the JIT profiles the log path during the warm-up with the types the real forward's log meets.
 *
 * <p>Why not {@code System.err}: its classes differ between JDKs and from anything a program can make. On
 * JDK 17 it is a PrintStream over a BufferedOutputStream over a FileOutputStream; on JDK 25 the innermost
 * stream is {@code java.lang.System$Out}, which no program can create. A warm-up over a FileOutputStream
 * left the real forward's first log flush a receiver the compiled code had never seen: a class_check trap
 * in Log.flush (inlined into the loop), and the loop compiled again in the first second (WarmupIT, on
 * JDK 25). No BufferedOutputStream either: every log write is a whole batch of lines, flushed at once.
 */
public final class LogStreams {

    /** A new stream over fd 2, for the command line's messages and the connection log. */
    public static PrintStream stderr() {
        return over(new FileOutputStream(FileDescriptor.err));
    }

    /** Where the warm-up's log lines go: /dev/null through the classes of {@link #stderr}; without /dev/null, nowhere. */
    static PrintStream discard() {
        try {
            return over(new FileOutputStream("/dev/null"));
        } catch (IOException e) {
            return new PrintStream(OutputStream.nullOutputStream());
        }
    }

    private static PrintStream over(FileOutputStream f) {
        String enc = System.getProperty("stderr.encoding", System.getProperty("sun.stderr.encoding"));
        Charset cs;
        try {
            cs = enc == null ? Charset.defaultCharset() : Charset.forName(enc);
        } catch (IllegalArgumentException e) {
            cs = Charset.defaultCharset();
        }
        return new PrintStream(f, true, cs);
    }

    private LogStreams() {}
}
