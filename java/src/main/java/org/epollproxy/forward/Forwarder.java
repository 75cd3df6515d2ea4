package org.epollproxy.forward;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.epollproxy.loop.EventLoop;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.Net;
import org.epollproxy.shim.NativeBuffer;
import org.epollproxy.shim.SockAddr;

/**
 * Everything one event loop forwards: its listeners, its open pairs (the socket-pair dictionary) and
 * its buffer pool. All of it is touched by the loop's thread only, so nothing here is locked.
 *
 * <p>The pair dictionary is the loop's token table: an event's token leads in O(1) to the
 * {@link Side} (and so the {@link Pair}) it belongs to. {@link #pairs} is only the list of open pairs
 * for shutdown, the connection view and leak checks, with O(1) removal by index.
 */
public final class Forwarder {
    private final EventLoop loop;
    private final Kernel k;
    private final Settings settings;
    private final BufferPool pool;
    private final Log log;
    private final AtomicInteger openTotal;
    private final LoopCounters counters = new LoopCounters();
    private final NativeBuffer scratch = NativeBuffer.allocate(SockAddr.SIZE);
    private final List<TcpListener> listeners = new ArrayList<>();
    private Pair[] pairs = new Pair[64];
    private int pairCount;

    /**
     * @param openTotal open connections over all loops, for --max-connections
     */
    public Forwarder(EventLoop loop, Settings settings, Log log, AtomicInteger openTotal) {
        this.loop = loop;
        this.k = loop.kernel();
        this.settings = settings;
        this.log = log;
        this.openTotal = openTotal;
        this.pool = new BufferPool(settings.bufferSize, Math.max(16, (16 << 20) / settings.bufferSize));
        loop.setEndOfIteration(log::flush);
    }

    EventLoop loop() {
        return loop;
    }

    Settings settings() {
        return settings;
    }

    BufferPool pool() {
        return pool;
    }

    Log log() {
        return log;
    }

    LoopCounters stats() {
        return counters;
    }

    public LoopCounters counters() {
        return counters;
    }

    public BufferPool bufferPool() {
        return pool;
    }

    NativeBuffer scratch() {
        return scratch;
    }

    long scratchAddress() {
        return scratch.address();
    }

    /** Writes {@code a} into the scratch address buffer and returns its native address. */
    long addressBuffer(SockAddr a) {
        a.write(scratch.buffer(), 0);
        return scratch.address();
    }

    boolean atCapacity() {
        return settings.maxConnections > 0 && openTotal.get() >= settings.maxConnections;
    }

    /** Starts serving an already bound and listening socket. Loop thread only. */
    public void addListener(Forward forward, int fd) {
        TcpListener l = new TcpListener(this, forward, fd);
        listeners.add(l);
        l.start();
    }

    // ---- connections ----

    void onAccept(TcpListener l, int fd, SockAddr client) {
        tuneSocket(fd);
        Pair p = new Pair(this, l, fd, client);
        if (pairCount == pairs.length) pairs = Arrays.copyOf(pairs, pairCount * 2);
        p.index = pairCount;
        pairs[pairCount++] = p;
        l.stats.active++;
        openTotal.incrementAndGet();
        p.connect(0);
    }

    /** Options every forwarded socket gets: no Nagle delay (we pass writes through as they come). */
    void tuneSocket(int fd) {
        k.setsockopt_int(fd, Net.IPPROTO_TCP, Net.TCP_NODELAY, 1);
        if (settings.keepalive) k.setsockopt_int(fd, Net.SOL_SOCKET, Net.SO_KEEPALIVE, 1);
    }

    void pairClosed(Pair p, EndReason reason, int err) {
        int i = p.index;
        Pair last = pairs[--pairCount];
        pairs[i] = last;
        last.index = i;
        pairs[pairCount] = null;
        p.index = -1;
        TcpListener l = p.listener;
        l.stats.active--;
        l.stats.bytesUp += p.up.bytesOut;
        l.stats.bytesDown += p.down.bytesOut;
        l.stats.bytesSplicedUp += p.up.bytesSpliced;
        l.stats.bytesSplicedDown += p.down.bytesSpliced;
        l.stats.ends[reason.ordinal()]++;
        openTotal.decrementAndGet();
        if (settings.logConnections) logEnd(p, reason, err);
        for (TcpListener each : listeners) each.capacityFreed();
    }

    private void logEnd(Pair p, EndReason reason, int err) {
        Backend b = p.currentBackend();
        long ms = p.durationNanos(loop.now()) / 1_000_000;
        StringBuilder sb = log.line()
                .append("tcp client=").append(p.clientAddr)
                .append(" listen=").append(p.listener.forward().bind())
                .append(" backend=").append(b == null ? "-" : b.toString())
                .append(" up=").append(p.up.bytesOut)
                .append(" down=").append(p.down.bytesOut)
                .append(" ms=").append(ms)
                .append(" end=").append(reason.text());
        if (err != 0) sb.append(" errno=").append(Errno.name(err));
        log.end();
    }

    void logBackendFailure(Pair p, Backend b, int err, boolean timedOut) {
        if (p.listener.forward().backends().size() < 2) return; // the end line says it all
        log.info("tcp client=" + p.clientAddr + " backend " + b + " failed: "
                + (timedOut ? "connect timeout" : Errno.describe(err)));
    }

    /** Open pairs on this loop. */
    public int openPairs() {
        return pairCount;
    }

    /** The i-th open pair (0 <= i < openPairs()), for the connection view. Loop thread only. */
    Pair pairAt(int i) {
        return pairs[i];
    }

    public List<TcpListener> listeners() {
        return listeners;
    }

    /** Per forward counters of this loop, in listener order. */
    public List<ForwardStats> forwardStats() {
        List<ForwardStats> out = new ArrayList<>();
        for (TcpListener l : listeners) out.add(l.stats);
        return out;
    }

    /** Shutdown: close every listener, then every pair (RST), then the pool. Loop thread only. */
    public void closeAll() {
        for (TcpListener l : listeners) l.close();
        listeners.clear();
        while (pairCount > 0) pairs[pairCount - 1].abortForShutdown();
        pool.close();
        log.flush();
    }
}
