package org.epollproxy.runtime;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.NativeBuffer;

/**
 * One end of a takeover conversation on a non-blocking UNIX stream socket: LF-terminated ASCII lines,
 * some of which carry one fd each (SCM_RIGHTS on the line's first byte). Reads are bounded: a line
 * longer than {@link #MAX_LINE} bytes, or more than {@link #MAX_LINES} lines, is a protocol error.
 * Received fds wait in arrival order; the line that carried one takes it ({@link #takeFd}).
 */
final class ControlChannel {
    static final int MAX_LINE = 512;
    static final int MAX_LINES = 4096;

    private final Kernel k;
    final int fd;
    private final NativeBuffer in = NativeBuffer.allocate(MAX_LINE);
    private final NativeBuffer fdOut = NativeBuffer.allocate(8);
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private final Deque<String> lines = new ArrayDeque<>();
    private final Deque<Integer> fds = new ArrayDeque<>();
    private final Deque<Object[]> out = new ArrayDeque<>(); // {byte[] bytes, int fd, int sent}
    private int linesRead;
    private boolean eof;
    /**
     * False on the running process's side, which never takes an fd: one a peer sends is closed as it comes.
     * Queued until the session ended, fds sent one per byte could fill the fd table (accept: EMFILE).
     */
    private final boolean takesFds;

    /** The peer broke the protocol (too long, too many lines, bytes that are not a line). */
    static final class ProtocolException extends RuntimeException {
        ProtocolException(String msg) {
            super(msg);
        }
    }

    ControlChannel(Kernel k, int fd) {
        this(k, fd, true);
    }

    ControlChannel(Kernel k, int fd, boolean takesFds) {
        this.k = k;
        this.fd = fd;
        this.takesFds = takesFds;
    }

    /** Reads what is there now (until EAGAIN or EOF); returns -errno of a failed read, else 0. */
    int read() {
        while (!eof) {
            int n = k.recv_fd(fd, in.address(), in.capacity(), fdOut.address());
            if (n == -Errno.EAGAIN) return 0;
            if (n < 0) return n;
            int got = fdOut.buffer().getInt(0);
            if (got >= 0 && takesFds) fds.add(got);
            else if (got >= 0) k.close(got);
            if (n == 0) {
                eof = true;
                return 0;
            }
            for (int i = 0; i < n; i++) {
                byte b = in.buffer().get(i);
                if (b == '\n') {
                    if (++linesRead > MAX_LINES) throw new ProtocolException("more than " + MAX_LINES + " lines");
                    lines.add(line.toString(StandardCharsets.ISO_8859_1)); // one char per byte: printable() shows each
                    line.reset();
                } else if (line.size() >= MAX_LINE) {
                    throw new ProtocolException("a line longer than " + MAX_LINE + " bytes");
                } else {
                    line.write(b);
                }
            }
        }
        return 0;
    }

    /** The longest text of a peer's line that goes into a log line or an error. */
    static final int MAX_SHOWN = 80;

    /**
     * A peer's text as it may appear in a log: printable ASCII as is, every other byte as {@code \xNN}, at
     * most {@link #MAX_SHOWN} characters and then "...": a peer cannot write control characters, escape
     * sequences or megabytes into the operator's log.
     */
    static String printable(String text) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            String shown = c >= 0x20 && c < 0x7f && c != '\\' ? String.valueOf(c) : String.format("\\x%02x", c & 0xff);
            if (b.length() + shown.length() > MAX_SHOWN) return b + "...";
            b.append(shown);
        }
        return b.toString();
    }

    /** The next complete line, or null. */
    String nextLine() {
        return lines.poll();
    }

    boolean eof() {
        return eof && lines.isEmpty();
    }

    /** The fd that came with the line just taken (fds arrive in the order of their lines). */
    int takeFd() {
        Integer f = fds.poll();
        if (f == null) throw new ProtocolException("an fd line without an fd");
        return f;
    }

    /** Queues {@code text + "\n"}, carrying {@code passFd} unless it is negative; call {@link #flush}. */
    void send(String text, int passFd) {
        out.add(new Object[] {(text + "\n").getBytes(StandardCharsets.US_ASCII), passFd, 0});
    }

    /** Sends what is queued: true when all went, false on EAGAIN (wait for EPOLLOUT); -errno fails. */
    boolean flush() {
        NativeBuffer buf = NativeBuffer.allocate(MAX_LINE + 1);
        while (!out.isEmpty()) {
            Object[] m = out.peek();
            byte[] b = (byte[]) m[0];
            int sent = (int) m[2];
            int len = Math.min(b.length - sent, buf.capacity());
            buf.buffer().put(0, b, sent, len);
            int n = k.send_fd(fd, buf.address(), len, sent == 0 ? (int) m[1] : -1);
            if (n == -Errno.EAGAIN) return false;
            if (n < 0) throw new org.epollproxy.shim.SyscallException("sendmsg on the control socket", n);
            m[2] = sent + n;
            if (sent + n == b.length) out.poll();
        }
        return true;
    }

    /** Closes the socket and every fd received and not taken. */
    void close() {
        for (int f : fds) k.close(f);
        fds.clear();
        k.close(fd);
    }
}
