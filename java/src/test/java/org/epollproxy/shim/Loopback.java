package org.epollproxy.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

/**
 * Test helper: real TCP sockets on 127.0.0.1 made through the shim, closed by {@link #close()}.
 * {@link #pair()} gives a connected (client, server) pair, both non-blocking.
 */
final class Loopback implements AutoCloseable {
    final Kernel k = Shim.load();
    private final List<Integer> fds = new ArrayList<>();
    final NativeBuffer addr = NativeBuffer.allocate(SockAddr.SIZE);
    final NativeBuffer buf = NativeBuffer.allocate(1 << 20);

    int track(int fd) {
        assertTrue(fd >= 0, () -> "expected an fd, got " + Errno.name(fd));
        fds.add(fd);
        return fd;
    }

    int tcpSocket() {
        return track(k.socket(Net.AF_INET, Net.SOCK_STREAM | Net.SOCK_NONBLOCK | Net.SOCK_CLOEXEC, 0));
    }

    /** A listening socket on 127.0.0.1 with a kernel-chosen port; its address is left in {@link #addr}. */
    int listener() {
        int l = tcpSocket();
        SockAddr.parse("127.0.0.1", 0).write(addr.buffer(), 0);
        assertEquals(0, k.bind(l, addr.address()));
        assertEquals(0, k.listen(l, 64));
        assertEquals(0, k.getsockname(l, addr.address()));
        return l;
    }

    /** {client, server}: connected, non-blocking, on loopback. */
    int[] pair() {
        int l = listener();
        int c = tcpSocket();
        int rc = k.connect(c, addr.address());
        assertTrue(rc == 0 || rc == -Errno.EINPROGRESS, () -> "connect: " + Errno.name(rc));
        int s = -Errno.EAGAIN;
        for (int i = 0; i < 2000 && s == -Errno.EAGAIN; i++) {
            s = k.accept(l, 0);
            if (s == -Errno.EAGAIN) sleep(1);
        }
        track(s);
        // wait for the client side of the handshake to complete too
        Epoll ep = Epoll.open(k, 4);
        ep.add(c, Epoll.EPOLLOUT, 1);
        assertEquals(1, ep.wait(2000));
        ep.close();
        assertEquals(0, k.sock_error(c));
        return new int[] {c, s};
    }

    /** A non-blocking UDP socket bound to 127.0.0.1 with a kernel-chosen port; its address is left in {@code at}. */
    int udpSocket(NativeBuffer at) {
        int fd = track(k.socket(Net.AF_INET, Net.SOCK_DGRAM | Net.SOCK_NONBLOCK | Net.SOCK_CLOEXEC, 0));
        SockAddr.parse("127.0.0.1", 0).write(at.buffer(), 0);
        assertEquals(0, k.bind(fd, at.address()));
        assertEquals(0, k.getsockname(fd, at.address()));
        return fd;
    }

    /** {@code dup(fd)}, closed by {@link #close()} like the others. */
    int dup(int fd) {
        return track(k.dup(fd));
    }

    /** Writes {@code n} bytes of {@code value} with send(); returns what send returned. */
    int send(int fd, int n, byte value) {
        for (int i = 0; i < n; i++) buf.buffer().put(i, value);
        return k.send(fd, buf.address(), n);
    }

    int recv(int fd, int max) {
        return k.recv(fd, buf.address(), max);
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    void closeNow(int fd) {
        fds.remove((Integer) fd);
        assertEquals(0, k.close(fd));
    }

    @Override
    public void close() {
        for (int fd : fds) k.close(fd);
        fds.clear();
    }
}
