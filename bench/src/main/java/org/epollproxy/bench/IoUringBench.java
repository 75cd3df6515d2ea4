package org.epollproxy.bench;

import static org.epollproxy.bench.ShimSockets.check;

import java.util.concurrent.TimeUnit;
import org.epollproxy.forward.Sockets;
import org.epollproxy.shim.Epoll;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.IoUring;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.NativeBuffer;
import org.epollproxy.shim.Net;
import org.epollproxy.shim.Shim;
import org.epollproxy.shim.SockAddr;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * shim.IoUring against the epoll calls it would replace, one operation at a time, on real loopback sockets:
 *
 * <ul>
 *   <li>{@code uringNop64}: 64 NOPs written, handed over and waited for with one io_uring_enter, and their
 *       completions read: the ring's own cost per request (per NOP).
 *   <li>{@code uringPollReadable} / {@code epollWaitReadable}: learning that a socket holding unread data is
 *       readable: a one-shot poll and its completion, against a level-triggered epoll_wait(0).
 *   <li>{@code uringSendRecv64} / {@code shimSendRecv64}: 64 bytes sent (an IORING_OP_SEND with MSG_WAITALL and
 *       its completion, against send(2)) and received with recv(2) on the other end.
 * </ul>
 *
 * The ring is made on the benchmark's thread (SINGLE_ISSUER binds it to that thread), in a Thread-scoped state.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class IoUringBench {
    private static final int BATCH = 64;
    private static final long POLL_DATA = 1;
    private static final long SEND_DATA = 2;

    private Kernel k;
    private IoUring ring;
    private Epoll epoll;
    private NativeBuffer buf;
    private int listenFd;
    /** A connection: {@code a} sends, {@code b} receives. */
    private int a;
    private int b;
    /** A connection whose receiving end {@code ready} always holds one unread byte. */
    private int readyPeer;
    private int ready;

    @Setup
    public void setup() {
        k = Shim.load();
        ring = IoUring.open(k, 2 * BATCH, 4 * BATCH);
        epoll = Epoll.open(k, 4);
        buf = NativeBuffer.allocate(4096);
        listenFd = Sockets.listenTcp(k, SockAddr.parse("127.0.0.1", 0), false, 16);
        SockAddr at = Sockets.localAddress(k, listenFd);
        int[] pair = pair(at);
        a = pair[0];
        b = pair[1];
        pair = pair(at);
        readyPeer = pair[0];
        ready = pair[1];
        check(k.send(readyPeer, buf.address(), 1), "send");
        check(epoll.add(ready, Epoll.EPOLLIN, POLL_DATA), "epoll_ctl ADD");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (epoll.wait(100) != 1) {
            if (System.nanoTime() > deadline) throw new IllegalStateException("the byte never arrived");
        }
    }

    @TearDown
    public void tearDown() {
        ring.close();
        epoll.close();
        for (int fd : new int[] {a, b, readyPeer, ready, listenFd}) k.close(fd);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int uringNop64() {
        for (int i = 0; i < BATCH; i++) ring.nop(i, 0);
        check(ring.submitAndWait(BATCH, -1), "io_uring_enter");
        int n = ring.ready();
        long sum = 0;
        for (int i = 0; i < n; i++) sum += ring.userData(i);
        ring.advance(n);
        return (int) sum;
    }

    @Benchmark
    public int uringPollReadable() {
        ring.pollAdd(ready, IoUring.POLLIN, POLL_DATA);
        check(ring.submitAndWait(1, -1), "io_uring_enter");
        int res = ring.res(0);
        ring.advance(ring.ready());
        return res;
    }

    @Benchmark
    public int epollWaitReadable() {
        return epoll.wait(0);
    }

    @Benchmark
    public int uringSendRecv64() {
        ring.send(a, buf.address(), 64, Net.MSG_WAITALL, SEND_DATA, 0);
        check(ring.submitAndWait(1, -1), "io_uring_enter");
        check(ring.res(0), "IORING_OP_SEND");
        ring.advance(ring.ready());
        return recv64();
    }

    @Benchmark
    public int shimSendRecv64() {
        check(k.send(a, buf.address(), 64), "send");
        return recv64();
    }

    /** The 64 bytes, on loopback already there once the send returned; a short spin covers the odd late one. */
    private int recv64() {
        int got = 0;
        while (got < 64) {
            int n = k.recv(b, buf.address() + 1024 + got, 64 - got);
            if (n == -Errno.EAGAIN) {
                Thread.onSpinWait();
                continue;
            }
            got += check(n, "recv");
        }
        return got;
    }

    /** A connected loopback pair, the client with TCP_NODELAY as the proxy's sockets have it. */
    private int[] pair(SockAddr at) {
        int[] pair = ShimSockets.connectedPair(k, listenFd, at);
        check(k.setsockopt_int(pair[0], Net.IPPROTO_TCP, Net.TCP_NODELAY, 1), "TCP_NODELAY");
        return pair;
    }
}
