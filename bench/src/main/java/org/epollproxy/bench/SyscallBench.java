package org.epollproxy.bench;

import static org.epollproxy.bench.ShimSockets.check;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import org.epollproxy.bench.jffi.JffiShim;
import org.epollproxy.bench.jni.JniShim;
import org.epollproxy.forward.Sockets;
import org.epollproxy.shim.Epoll;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.NativeBuffer;
import org.epollproxy.shim.Shim;
import org.epollproxy.shim.SockAddr;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One call at a time, four ways: the shim through jnr-ffi's interface mapping ({@code jnr*}, as the proxy
 * calls it), the same shim function through jffi called by hand ({@code jffi*}, the layer under jnr-ffi),
 * through hand-written JNI ({@code jni*}), and what java.nio does for the same job ({@code nio*}). Sockets are real loopback TCP connections; nothing here is simulated.
 *
 * <ul>
 *   <li>{@code *Noop}: a shim function that makes no syscall (the binding's own cost).
 *   <li>{@code *EpollWaitEmpty} / {@code nioSelectNowEmpty}: a non-blocking wait on an empty set.
 *   <li>{@code *RecvEagain} / {@code nioReadZero}: a read on an idle socket (-EAGAIN / read() == 0).
 *   <li>{@code *CtlMod} / {@code nioInterestOpsSelectNow}: flipping a socket's interest IN <-> IN|OUT;
 *       the socket's send buffer is full, so neither mask is ready. NIO only queues the change in
 *       {@code interestOps} and makes the syscall in the next select (calling interestOps alone in a
 *       loop grows that queue until the heap runs out), so NIO is measured as interestOps +
 *       selectNow, against EPOLL_CTL_MOD + epoll_wait(0) ({@code jffiCtlModWait}).
 *   <li>{@code *RoundTrip64}: send 64 bytes on one end of a connection, recv them on the other.
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class SyscallBench {
    private static final int EVENTS = 16;

    private Kernel k;
    private Epoll emptyEpoll;
    private Epoll fullEpoll;
    private NativeBuffer events;
    private NativeBuffer buf;
    /** A connected loopback pair made through the shim: {@code a} writes, {@code b} reads. */
    private int listenFd;
    private int a;
    private int b;
    /** A connection whose send buffer is full (its peer never reads): OUT is not ready, nor is IN. */
    private int fullFd;
    private int fullPeerFd;
    private int mask = Epoll.EPOLLIN;

    private Selector emptySelector;
    private Selector fullSelector;
    private SelectionKey fullKey;
    private int ops = SelectionKey.OP_READ;
    private ServerSocketChannel nioServer;
    private SocketChannel nioA;
    private SocketChannel nioB;
    private SocketChannel nioFull;
    private SocketChannel nioFullPeer;
    private ByteBuffer nioBuf;

    @Setup
    public void setup() throws IOException {
        k = Shim.load();
        JniShim.noop(); // loads the JNI library now, not inside a measurement
        JffiShim.noop(); // and the hand-bound jffi one
        emptyEpoll = Epoll.open(k, EVENTS);
        fullEpoll = Epoll.open(k, EVENTS);
        events = NativeBuffer.allocate(EVENTS * Epoll.EVENT_SIZE);
        buf = NativeBuffer.allocate(4096);

        listenFd = Sockets.listenTcp(k, SockAddr.parse("127.0.0.1", 0), false, 16);
        SockAddr at = Sockets.localAddress(k, listenFd);
        int[] pair = ShimSockets.connectedPair(k, listenFd, at);
        a = pair[0];
        b = pair[1];
        pair = ShimSockets.connectedPair(k, listenFd, at);
        fullFd = pair[0];
        fullPeerFd = pair[1];
        while (k.send(fullFd, buf.address(), 4096) > 0) {
            // fill the send buffer and the peer's receive buffer until -EAGAIN
        }
        check(fullEpoll.add(fullFd, mask, 1), "epoll_ctl ADD");

        emptySelector = Selector.open();
        fullSelector = Selector.open();
        nioServer = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        nioA = SocketChannel.open(nioServer.getLocalAddress());
        nioB = nioServer.accept();
        nioA.configureBlocking(false);
        nioB.configureBlocking(false);
        nioFull = SocketChannel.open(nioServer.getLocalAddress());
        nioFullPeer = nioServer.accept();
        nioFull.configureBlocking(false);
        nioBuf = ByteBuffer.allocateDirect(4096);
        while (nioFull.write(nioBuf.clear()) > 0) {
            // fill until the socket refuses more
        }
        fullKey = nioFull.register(fullSelector, ops);
        fullSelector.selectNow();
    }


    @TearDown
    public void teardown() throws IOException {
        for (int fd : new int[] {a, b, fullFd, fullPeerFd, listenFd}) k.close(fd);
        emptyEpoll.close();
        fullEpoll.close();
        emptySelector.close();
        fullSelector.close();
        for (SocketChannel ch : new SocketChannel[] {nioA, nioB, nioFull, nioFullPeer}) ch.close();
        nioServer.close();
    }

    // ---- the binding alone ----

    @Benchmark
    public int jnrNoop() {
        return k.sizeof_addr();
    }

    @Benchmark
    public int jniNoop() {
        return JniShim.noop();
    }

    @Benchmark
    public int jffiNoop() {
        return JffiShim.noop();
    }

    // ---- a non-blocking wait on an empty set ----

    @Benchmark
    public int jnrEpollWaitEmpty() {
        return k.epoll_wait(emptyEpoll.fd(), events.address(), EVENTS, 0);
    }

    @Benchmark
    public int jniEpollWaitEmpty() {
        return JniShim.epollWait(emptyEpoll.fd(), events.address(), EVENTS, 0);
    }

    @Benchmark
    public int jffiEpollWaitEmpty() {
        return JffiShim.epollWait(emptyEpoll.fd(), events.address(), EVENTS, 0);
    }

    @Benchmark
    public int nioSelectNowEmpty() throws IOException {
        return emptySelector.selectNow();
    }

    // ---- reading an idle socket ----

    @Benchmark
    public int jnrRecvEagain() {
        return k.recv(b, buf.address(), 4096);
    }

    @Benchmark
    public int jniRecvEagain() {
        return JniShim.recv(b, buf.address(), 4096);
    }

    @Benchmark
    public int jffiRecvEagain() {
        return JffiShim.recv(b, buf.address(), 4096);
    }

    @Benchmark
    public int nioReadZero() throws IOException {
        return nioB.read(nioBuf.clear());
    }

    // ---- changing interest ----

    @Benchmark
    public int jnrCtlMod() {
        mask ^= Epoll.EPOLLOUT;
        return k.epoll_ctl(fullEpoll.fd(), Epoll.EPOLL_CTL_MOD, fullFd, mask, 1);
    }

    @Benchmark
    public int jniCtlMod() {
        mask ^= Epoll.EPOLLOUT;
        return JniShim.epollCtl(fullEpoll.fd(), Epoll.EPOLL_CTL_MOD, fullFd, mask, 1);
    }

    @Benchmark
    public int jffiCtlMod() {
        mask ^= Epoll.EPOLLOUT;
        return JffiShim.epollCtl(fullEpoll.fd(), Epoll.EPOLL_CTL_MOD, fullFd, mask, 1);
    }

    @Benchmark
    public int jnrCtlModWait() {
        mask ^= Epoll.EPOLLOUT;
        k.epoll_ctl(fullEpoll.fd(), Epoll.EPOLL_CTL_MOD, fullFd, mask, 1);
        return k.epoll_wait(fullEpoll.fd(), events.address(), EVENTS, 0);
    }

    @Benchmark
    public int nioInterestOpsSelectNow() throws IOException {
        ops ^= SelectionKey.OP_WRITE;
        fullKey.interestOps(ops);
        return fullSelector.selectNow();
    }

    // ---- 64 bytes across a loopback connection ----

    @Benchmark
    public int jnrRoundTrip64() {
        k.send(a, buf.address(), Wire.MESSAGE_SIZE);
        int got = 0;
        while (got < Wire.MESSAGE_SIZE) {
            int n = k.recv(b, buf.address() + 2048, Wire.MESSAGE_SIZE - got);
            if (n > 0) got += n;
            else if (n != -Errno.EAGAIN) throw new IllegalStateException("recv: " + Errno.describe(n));
        }
        return got;
    }

    @Benchmark
    public int jniRoundTrip64() {
        JniShim.send(a, buf.address(), Wire.MESSAGE_SIZE);
        int got = 0;
        while (got < Wire.MESSAGE_SIZE) {
            int n = JniShim.recv(b, buf.address() + 2048, Wire.MESSAGE_SIZE - got);
            if (n > 0) got += n;
            else if (n != -Errno.EAGAIN) throw new IllegalStateException("recv: " + Errno.describe(n));
        }
        return got;
    }

    @Benchmark
    public int jffiRoundTrip64() {
        JffiShim.send(a, buf.address(), Wire.MESSAGE_SIZE);
        int got = 0;
        while (got < Wire.MESSAGE_SIZE) {
            int n = JffiShim.recv(b, buf.address() + 2048, Wire.MESSAGE_SIZE - got);
            if (n > 0) got += n;
            else if (n != -Errno.EAGAIN) throw new IllegalStateException("recv: " + Errno.describe(n));
        }
        return got;
    }

    @Benchmark
    public int nioRoundTrip64() throws IOException {
        nioBuf.clear().limit(Wire.MESSAGE_SIZE);
        nioA.write(nioBuf);
        nioBuf.clear().limit(Wire.MESSAGE_SIZE);
        int got = 0;
        while (got < Wire.MESSAGE_SIZE) got += nioB.read(nioBuf);
        return got;
    }
}
