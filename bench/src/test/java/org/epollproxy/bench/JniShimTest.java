package org.epollproxy.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.epollproxy.bench.jffi.JffiShim;
import org.epollproxy.bench.jni.JniShim;
import org.epollproxy.forward.Sockets;
import org.epollproxy.shim.Epoll;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.NativeBuffer;
import org.epollproxy.shim.Net;
import org.epollproxy.shim.Shim;
import org.epollproxy.shim.SockAddr;
import org.junit.jupiter.api.Test;

/**
 * The JNI and hand-bound jffi entry points the benchmarks compare with the proxy's jnr-ffi binding load and
 * return what the shim returns through jnr-ffi.
 */
class JniShimTest {
    private final Kernel k = Shim.load();

    @Test
    void jniAndJnrAgreeOnAnIdleSocketAndAnEmptyEpollSet() {
        assertEquals(k.sizeof_addr(), JniShim.noop());
        assertEquals(k.sizeof_addr(), JffiShim.noop());
        int listenFd = Sockets.listenTcp(k, SockAddr.parse("127.0.0.1", 0), false, 4);
        int c = k.socket(Net.AF_INET, Net.SOCK_STREAM | Net.SOCK_NONBLOCK, 0);
        NativeBuffer addr = NativeBuffer.allocate(SockAddr.SIZE);
        Sockets.localAddress(k, listenFd).write(addr.buffer(), 0);
        NativeBuffer buf = NativeBuffer.allocate(256);
        try (Epoll ep = Epoll.open(k, 4)) {
            int rc = k.connect(c, addr.address());
            assertEquals(true, rc == 0 || rc == -Errno.EINPROGRESS, "connect: " + Errno.describe(rc));
            assertEquals(-Errno.EAGAIN, JniShim.recv(c, buf.address(), 256));
            assertEquals(-Errno.EAGAIN, k.recv(c, buf.address(), 256));
            assertEquals(-Errno.EAGAIN, JffiShim.recv(c, buf.address(), 256));
            assertEquals(0, JffiShim.epollWait(ep.fd(), buf.address(), 4, 0));
            assertEquals(0, JniShim.epollWait(ep.fd(), buf.address(), 4, 0));
            assertEquals(0, JniShim.epollCtl(ep.fd(), Epoll.EPOLL_CTL_ADD, c, Epoll.EPOLLOUT, 7));
            assertEquals(1, JniShim.epollWait(ep.fd(), buf.address(), 4, 1000), "a connected socket is writable");
            assertEquals(7L, buf.buffer().getLong(0), "the token comes back through JNI as through jnr-ffi");
            assertEquals(0, JffiShim.epollCtl(ep.fd(), Epoll.EPOLL_CTL_MOD, c, Epoll.EPOLLOUT, 9));
            assertEquals(1, JffiShim.epollWait(ep.fd(), buf.address(), 4, 1000));
            assertEquals(9L, buf.buffer().getLong(0), "the token comes back through jffi as through jnr-ffi");
            assertEquals(-Errno.EBADF, JniShim.send(-1, buf.address(), 1));
            assertEquals(-Errno.EBADF, JffiShim.send(-1, buf.address(), 1));
        } finally {
            k.close(c);
            k.close(listenFd);
        }
    }
}
