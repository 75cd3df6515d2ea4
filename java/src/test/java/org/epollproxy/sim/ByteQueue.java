package org.epollproxy.sim;

/** A FIFO of bytes: a simulated socket's receive queue. */
final class ByteQueue {
    private byte[] buf = new byte[64];
    private int head;
    private int size;

    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    void add(byte[] src, int off, int len) {
        if (size + len > buf.length) {
            byte[] bigger = new byte[Math.max(buf.length * 2, size + len)];
            copyOut(bigger, 0, size);
            buf = bigger;
            head = 0;
        }
        int tail = (head + size) % buf.length;
        int first = Math.min(len, buf.length - tail);
        System.arraycopy(src, off, buf, tail, first);
        System.arraycopy(src, off + first, buf, 0, len - first);
        size += len;
    }

    /** Removes up to {@code len} bytes into dst; returns how many. */
    int take(byte[] dst, int off, int len) {
        int n = Math.min(len, size);
        copyOut(dst, off, n);
        head = (head + n) % buf.length;
        size -= n;
        return n;
    }

    /** Copies up to {@code len} bytes from the head without removing them; returns how many. */
    int peek(byte[] dst, int off, int len) {
        int n = Math.min(len, size);
        copyOut(dst, off, n);
        return n;
    }

    /** Removes {@code n} bytes from the head. */
    void skip(int n) {
        n = Math.min(n, size);
        head = (head + n) % buf.length;
        size -= n;
    }

    /** Forgets the last {@code n} bytes (segments still in flight when an RST overtook them). */
    void dropTail(int n) {
        size -= Math.min(n, size);
    }

    private void copyOut(byte[] dst, int off, int n) {
        int first = Math.min(n, buf.length - head);
        System.arraycopy(buf, head, dst, off, first);
        System.arraycopy(buf, 0, dst, off + first, n - first);
    }
}
