package org.epollproxy.forward;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.epollproxy.loop.EventLoop;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.NativeBuffer;
import org.epollproxy.shim.Net;
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
    /** The largest UDP payload (65,535 - 8 UDP - 20 IPv4 header bytes); IPv6's is 65,527, also below the buffer. */
    static final int DATAGRAM_MAX = 65536;

    private final EventLoop loop;
    private final Kernel k;
    private final Settings settings;
    private final BufferPool pool;
    private final Log log;
    private final AtomicInteger openTotal;
    private final LoopCounters counters = new LoopCounters();
    private final NativeBuffer scratch = NativeBuffer.allocate(SockAddr.SIZE);
    private NativeBuffer datagram; // UDP only, allocated on first use
    private final List<Listener> listeners = new ArrayList<>();
    private Pair[] pairs = new Pair[64];
    private int pairCount;
    private volatile RinetdLog rinetdLog;

    /**
     * @param openTotal open connections over all loops, for --max-connections
     */
    public Forwarder(EventLoop loop, Settings settings, Log log, AtomicInteger openTotal) {
        this.loop = loop;
        this.k = loop.kernel();
        this.settings = settings;
        this.log = log;
        this.openTotal = openTotal;
        // A pool buffer also carries a whole PROXY protocol header (Pair.queueProxyHeader writes it in one
        // piece): never smaller than that, whatever bufferSize says (the CLI's minimum is 1 KiB anyway).
        int size = Math.max(settings.bufferSize, ProxyProtocol.MAX_HEADER);
        this.pool = new BufferPool(size, Math.max(16, (16 << 20) / size));
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

    /** One datagram's worth of native memory, shared by this loop's UDP sockets. */
    long datagramBuffer() {
        if (datagram == null) datagram = NativeBuffer.allocate(DATAGRAM_MAX);
        return datagram.address();
    }

    boolean atCapacity() {
        return settings.maxConnections > 0 && openTotal.get() >= settings.maxConnections;
    }

    /** Where finished connections are also written in rinetd's format (null: nowhere). Any thread. */
    public void setRinetdLog(RinetdLog l) {
        this.rinetdLog = l;
    }

    // ---- listeners (loop thread only) ----

    /** Starts serving an already bound socket (listening, for TCP). */
    public void addListener(Forward forward, int fd) {
        if (forward.proto() == Forward.Proto.UDP) {
            UdpListener l = new UdpListener(this, forward, fd);
            listeners.add(l);
            l.start();
        } else {
            TcpListener l = new TcpListener(this, forward, fd);
            listeners.add(l);
            l.start();
        }
    }

    /** Reload: the listener with the same key serves {@code forward} from now on; false if there is none. */
    public boolean replaceForward(Forward forward) {
        for (Listener l : listeners) {
            if (l.forward().key().equals(forward.key())) {
                l.setForward(forward);
                return true;
            }
        }
        return false;
    }

    /** Reload: stop listening for {@code key}; its open connections and sessions live on. */
    public void removeListener(String key) {
        for (int i = 0; i < listeners.size(); i++) {
            if (listeners.get(i).forward().key().equals(key)) {
                listeners.remove(i).close();
                return;
            }
        }
    }

    // ---- connections ----

    void onAccept(TcpListener l, int fd, SockAddr client) {
        String verdict = l.forward().access().check(client);
        if (verdict != null) {
            // Accepted and closed at once, as rinetd does: the client sees connect + EOF, the backend nothing.
            k.close(fd);
            l.stats().denied++;
            connectionEnded(new ConnectionRecord(l.forward(), client, null, 0, 0, 0,
                    verdict.equals("denied") ? EndReason.DENIED : EndReason.NOT_ALLOWED, 0));
            return;
        }
        Pair p;
        try {
            tuneSocket(fd);
            p = new Pair(this, l, fd, client);
        } catch (RuntimeException e) {
            k.close(fd); // nobody owns the new fd yet: close it here or it leaks
            throw e;
        }
        if (pairCount == pairs.length) pairs = Arrays.copyOf(pairs, pairCount * 2);
        p.index = pairCount;
        pairs[pairCount++] = p;
        l.stats().active++;
        openTotal.incrementAndGet();
        try {
            p.connect(0);
        } catch (RuntimeException e) {
            // The listener's handler gets the exception, not the pair's: end the half-made pair here,
            // or it stays open with no interest and no timer, forever.
            p.fail(e);
            throw e;
        }
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
        ForwardStats st = p.listener.stats();
        st.active--;
        st.bytesUp += p.up.bytesOut;
        st.bytesDown += p.down.bytesOut;
        st.bytesSplicedUp += p.up.bytesSpliced;
        st.bytesSplicedDown += p.down.bytesSpliced;
        st.ends[reason.ordinal()]++;
        switch (reason) {
            case CONNECT_TIMEOUT:
            case IDLE_TIMEOUT:
            case FIN_TIMEOUT:
                st.timeouts++;
                break;
            case CLIENT_RESET:
            case BACKEND_RESET:
                st.resets++;
                break;
            default:
                break;
        }
        openTotal.decrementAndGet();
        connectionEnded(new ConnectionRecord(p.forward, p.clientAddr, p.currentBackend(), p.up.bytesOut,
                p.down.bytesOut, p.durationNanos(loop.now()) / 1_000_000, reason, err));
        for (Listener each : listeners) {
            if (each instanceof TcpListener) ((TcpListener) each).capacityFreed();
        }
    }

    /** One stderr line (unless --quiet) and one rinetd logfile line per finished connection or session. */
    void connectionEnded(ConnectionRecord r) {
        if (settings.logConnections) {
            StringBuilder sb = log.line()
                    .append(r.forward().proto().lower())
                    .append(" client=").append(r.client())
                    .append(" listen=").append(r.forward().bind())
                    .append(" backend=").append(r.backend() == null ? "-" : r.backend().toString())
                    .append(" up=").append(r.up())
                    .append(" down=").append(r.down())
                    .append(" ms=").append(r.millis())
                    .append(" end=").append(r.reason().text());
            if (r.errno() != 0) sb.append(" errno=").append(Errno.name(r.errno()));
            log.end();
        }
        RinetdLog rl = rinetdLog;
        if (rl != null) rl.write(r);
    }

    void logBackendFailure(Pair p, Backend b, int err, boolean timedOut) {
        if (p.forward.backends().size() < 2) return; // the end line says it all
        log.info("tcp client=" + p.clientAddr + " backend " + b + " failed: "
                + (timedOut ? "connect timeout" : Errno.describe(err)) + "; trying the next backend");
    }

    /** The i-th open pair (0 <= i < openPairs()); loop thread only. */
    Pair pairAt(int i) {
        return pairs[i];
    }

    /** Open pairs on this loop. */
    public int openPairs() {
        return pairCount;
    }

    /** UDP sessions open on this loop. */
    public int openSessions() {
        int n = 0;
        for (Listener l : listeners) if (l instanceof UdpListener) n += ((UdpListener) l).sessionCount();
        return n;
    }

    /** The forwards this loop listens for, in listener order. */
    public List<Forward> forwards() {
        List<Forward> out = new ArrayList<>();
        for (Listener l : listeners) out.add(l.forward());
        return out;
    }

    /** Per forward counters of this loop, in listener order. */
    public List<ForwardStats> forwardStats() {
        List<ForwardStats> out = new ArrayList<>();
        for (Listener l : listeners) out.add(l.stats());
        return out;
    }

    /** Shutdown: close every listener, then every pair (RST) and session, then the pool. Loop thread only. */
    public void closeAll() {
        for (Listener l : listeners) {
            if (l instanceof UdpListener) ((UdpListener) l).closeAll();
            else l.close();
        }
        listeners.clear();
        while (pairCount > 0) pairs[pairCount - 1].abortForShutdown();
        pool.close();
        log.flush();
    }
}
