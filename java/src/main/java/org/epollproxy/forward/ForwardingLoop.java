package org.epollproxy.forward;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.epollproxy.loop.EventLoop;
import org.epollproxy.loop.Timer;
import org.epollproxy.shim.NativeBuffer;
import org.epollproxy.shim.SockAddr;

/**
 * Everything one event loop forwards with: its listeners, its open connections (the socket-pair
 * dictionary), its buffer pool and scratch memory, its counters and its log. All of it is touched by
 * the loop's thread only, so nothing here is locked.
 *
 * <p>The pair dictionary proper is the loop's token table: an event's token leads in O(1) to the
 * handler (and so the connection) it belongs to. The connection table here is only the list of open
 * connections for shutdown, the live view and leak checks, with O(1) removal by index.
 */
public final class ForwardingLoop {
    /** The datagram buffer: above the largest UDP payload (65,507 over IPv4, 65,527 over IPv6), so none is cut. */
    public static final int DATAGRAM_MAX = 65536;

    private final EventLoop loop;
    private final Settings settings;
    private final BufferPool pool;
    /** --splice: the pipes directions take while bytes wait in them. */
    private final PipePool pipes;
    private final Log log;
    private final AtomicInteger openTotal;
    /** Set by {@link #beginDrain} on the loop's thread, read by the thread that logs the drain. */
    private volatile int udpSessionsEndedByDrain;
    private final PortQuarantine ports;
    private final LoopCounters counters = new LoopCounters();
    private final NativeBuffer scratch = NativeBuffer.allocate(SockAddr.SIZE);
    private NativeBuffer datagram; // UDP only, allocated on first use
    private int datagramCapacity = DATAGRAM_MAX;
    private final List<Listener> listeners = new ArrayList<>();
    private Connection[] open = new Connection[64];
    private int openCount;
    private volatile RinetdLog rinetdLog;
    /** {@link #reserve} counted a connection in openTotal that {@link #opened} has not yet taken over. */
    private boolean reserved;
    private boolean draining;
    private int resetAtShutdown;
    /** Drain deadline: whatever is still open is reset when it fires (the loop then stops). */
    private final org.epollproxy.loop.Timer drainDeadline = new org.epollproxy.loop.Timer() {
        @Override
        protected void onTimer(long now) {
            loop.stop(); // run() returns; closeAll() then resets what is left
        }
    };
    /** Per-client limits, shared by every loop of the process (ProxyServer sets one for all). */
    private ClientLimits clientLimits;

    /**
     * @param openTotal open connections over all loops, for --max-connections
     */
    public ForwardingLoop(EventLoop loop, Settings settings, Log log, AtomicInteger openTotal) {
        this(loop, settings, log, openTotal, new PortQuarantine());
    }

    /** @param ports UDP ports recently used by sessions, shared by every loop of the process */
    public ForwardingLoop(EventLoop loop, Settings settings, Log log, AtomicInteger openTotal, PortQuarantine ports) {
        this.ports = ports;
        this.loop = loop;
        this.settings = settings;
        this.log = log;
        this.openTotal = openTotal;
        // A pool buffer also carries a whole PROXY protocol header (written in one piece before the client's
        // first byte): never smaller than that, whatever bufferSize says (the CLI's minimum is 1 KiB anyway).
        // With --accept-proxy the header sent may be followed in that buffer by client bytes read with the one received.
        int size = Math.max(settings.bufferSize(), 2 * ProxyProtocol.MAX_HEADER);
        this.pool = new BufferPool(size, Math.max(16, (16 << 20) / size), Math.max(4, (1 << 20) / size));
        this.pipes = new PipePool(settings.pipeSize());
        loop.setEndOfIteration(this::endOfIteration);
        this.clientLimits = ClientLimits.of(settings);
    }

    /** --max-connections-per-client / --client-rate: the table all loops share. */
    public ClientLimits clientLimits() {
        return clientLimits;
    }

    /** Before the loop runs: the process-wide client table. */
    public void setClientLimits(ClientLimits l) {
        this.clientLimits = l;
    }

    /** How often idle buffers beyond the pool's floor are looked at, and freed if they stayed idle. */
    public static final long TRIM_PERIOD_NANOS = 5_000_000_000L;

    /**
     * Memory goes back after a burst: every {@link #TRIM_PERIOD_NANOS} while the pool holds more than its
     * floor (or freed buffers since), the buffers that stayed idle the whole period are freed and
     * malloc_trim gives the C heap's free pages back to the kernel. The --splice pipes that stayed idle
     * the whole period are closed the same way. An idle loop arms nothing.
     */
    private final Timer trim = new Timer() {
        @Override
        protected void onTimer(long now) {
            pool.trimIdle();
            if (pool.freedSinceLastAsk() > 0) {
                loop.kernel().malloc_trim(0);
                counters.mallocTrims++;
            }
            pipes.trimIdle(loop.kernel());
            if (pool.aboveFloor() || pipes.aboveFloor()) loop.schedule(this, now + TRIM_PERIOD_NANOS);
        }
    };

    private void endOfIteration() {
        log.flush();
        if (!trim.isScheduled() && (pool.aboveFloor() || pool.freedSinceLastAskPending() || pipes.aboveFloor())) {
            loop.schedule(trim, loop.now() + TRIM_PERIOD_NANOS);
        }
    }

    public EventLoop loop() {
        return loop;
    }

    public Settings settings() {
        return settings;
    }

    public BufferPool pool() {
        return pool;
    }

    public PipePool pipes() {
        return pipes;
    }

    public Log log() {
        return log;
    }

    public LoopCounters counters() {
        return counters;
    }

    /** A SockAddr-sized native buffer for one call at a time (accept's peer address, getsockname). */
    public NativeBuffer scratch() {
        return scratch;
    }

    /** Writes {@code a} into the scratch buffer and returns its native address. */
    public long addressBuffer(SockAddr a) {
        a.write(scratch.buffer(), 0);
        return scratch.address();
    }

    /** One datagram's worth of native memory, shared by this loop's UDP sockets. */
    public long datagramBuffer() {
        if (datagram == null) datagram = NativeBuffer.allocate(DATAGRAM_MAX);
        return datagram.address();
    }

    /** Bytes of {@link #datagramBuffer()} a receive may fill; a longer datagram (MSG_TRUNC says so) is dropped. */
    public int datagramCapacity() {
        return datagramCapacity;
    }

    /** Tests: a smaller datagram buffer, so that truncation can be provoked with real sockets. */
    void limitDatagramCapacity(int bytes) {
        datagramCapacity = Math.min(bytes, DATAGRAM_MAX);
    }

    /** UDP session ports in quarantine, for every loop. */
    public PortQuarantine portQuarantine() {
        return ports;
    }

    /** At --max-connections, counting every loop's connections. */
    public boolean atCapacity() {
        return settings.maxConnections() > 0 && openTotal.get() >= settings.maxConnections();
    }

    /**
     * Claims room for one connection below --max-connections, over all loops, before accept: a
     * compare-and-set, so two loops can never both take the last place (checking and counting in two
     * steps let each loop see room and overshoot the cap). The claim is held until {@link #opened}
     * consumes it or {@link #releaseReservation} gives it back (accept found nobody, the client was
     * denied). False at the cap. Loop thread only.
     */
    public boolean reserve() {
        if (reserved) return true;
        int max = settings.maxConnections();
        while (true) {
            int n = openTotal.get();
            if (max > 0 && n >= max) return false;
            if (openTotal.compareAndSet(n, n + 1)) break;
        }
        reserved = true;
        return true;
    }

    /** Gives back a claim {@link #reserve} made that no connection used; no-op without one. */
    public void releaseReservation() {
        if (!reserved) return;
        reserved = false;
        openTotal.decrementAndGet();
    }

    /** Where finished connections are also written in rinetd's format (null: nowhere). Any thread. */
    public void setRinetdLog(RinetdLog l) {
        this.rinetdLog = l;
    }

    // ---- listeners (loop thread only) ----

    /** Starts serving {@code l} (already bound; listening, for TCP). */
    public void addListener(Listener l) {
        listeners.add(l);
        l.start();
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

    /** Reload: stop listening for {@code key}; its open connections and sessions live on. False if none listens. */
    public boolean removeListener(String key) {
        for (int i = 0; i < listeners.size(); i++) {
            if (listeners.get(i).forward().key().equals(key)) {
                listeners.remove(i).close();
                return true;
            }
        }
        return false;
    }

    /** The listeners, in the order they were added; loop thread only. */
    public List<Listener> listeners() {
        return listeners;
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

    // ---- connections (loop thread only) ----

    /** {@code c} is open: it counts toward --max-connections and is listed until {@link #closed}. */
    public void opened(Connection c) {
        if (openCount == open.length) open = Arrays.copyOf(open, openCount * 2);
        c.tableIndex = openCount;
        open[openCount++] = c;
        if (!c.countsTowardCap()) return;
        if (reserved) reserved = false; // counted when its place was reserved, before accept
        else openTotal.incrementAndGet();
    }

    /** {@code c} ended as {@code r} says: unlisted, logged, and its room offered to paused listeners. */
    public void closed(Connection c, ConnectionRecord r) {
        closed(c, r, true);
    }

    /** As above; without its stderr line unless {@code logLine} (an end logged in summary; the rinetd logfile still gets it). */
    public void closed(Connection c, ConnectionRecord r, boolean logLine) {
        unlist(c);
        connectionEnded(r, logLine);
        if (draining) {
            if (openCount == 0) loop.stop();
            return;
        }
        if (!c.countsTowardCap()) return;
        for (Listener each : listeners) each.capacityFreed();
    }

    /**
     * {@code c} leaves the table without ending: a connection handed from one phase to the next (the
     * PROXY header reader to its pair), which is listed again at once with {@link #opened}.
     */
    public void unlist(Connection c) {
        int i = c.tableIndex;
        Connection last = open[--openCount];
        open[i] = last;
        last.tableIndex = i;
        open[openCount] = null;
        c.tableIndex = -1;
        if (c.countsTowardCap()) openTotal.decrementAndGet();
    }

    /** The i-th open connection (0 <= i < openConnections()); loop thread only. */
    public Connection connectionAt(int i) {
        return open[i];
    }

    /** {@code ctl disable --reset} (loop thread): resets this loop's connections to that backend; returns how many. */
    public int resetUsing(Object backendState) {
        int n = 0;
        for (int i = openCount - 1; i >= 0; i--) {
            if (i < openCount && open[i].resetIfUsing(backendState)) n++;
        }
        return n;
    }

    /** Open connections on this loop. */
    public int openConnections() {
        return openCount;
    }

    /** UDP sessions open on this loop (they are their listeners' own). */
    public int openSessions() {
        int n = 0;
        for (Listener l : listeners) n += l.sessions();
        return n;
    }

    /** One stderr line (unless --quiet) and one rinetd logfile line per finished connection or session. */
    public void connectionEnded(ConnectionRecord r) {
        connectionEnded(r, true);
    }

    private void connectionEnded(ConnectionRecord r, boolean logLine) {
        if (logLine && settings.logConnections()) {
            r.appendTo(log.line());
            log.end();
        }
        RinetdLog rl = rinetdLog;
        if (rl != null) rl.write(r);
    }

    /**
     * Drain (loop thread): every listener closes now (UDP sessions end, logged {@code end=shutdown}), open
     * TCP connections carry on; the loop stops when the last one ends, or after {@code timeoutNanos},
     * when {@link #closeAll} resets what is left. The closed listeners stay listed, so the stats still
     * show their forwards' open connections. Returns the connections open at the start.
     */
    public int beginDrain(long timeoutNanos) {
        return beginDrain(timeoutNanos, true);
    }

    /**
     * As {@link #beginDrain(long)}; {@code takeInQueued} false when another process holds the listening sockets
     * too (a successor took them over, or systemd keeps them for the next start): what waits in their backlog is
     * that process's to accept, and closing this process's copy resets nothing.
     */
    public int beginDrain(long timeoutNanos, boolean takeInQueued) {
        if (draining) return openCount;
        draining = true;
        udpSessionsEndedByDrain = openSessions();
        for (Listener l : listeners) {
            if (takeInQueued) l.takeInQueued(); // then close at once: the window for a connection to be queued and reset is a syscall wide
            l.closeAll();
        }
        if (openCount == 0) loop.stop();
        else loop.schedule(drainDeadline, loop.now() + timeoutNanos);
        return openCount;
    }

    /** UDP sessions open when the drain began, which it ended (a datagram has no FIN to wait for). */
    public int udpSessionsEndedByDrain() {
        return udpSessionsEndedByDrain;
    }

    /** A drain began on this loop. */
    public boolean draining() {
        return draining;
    }

    /** Connections {@link #closeAll} had to reset (the drain deadline, or a stop without a drain). */
    public int resetAtShutdown() {
        return resetAtShutdown;
    }

    /** Shutdown: close every listener, then every connection (RST) and session, then the pools. Loop thread only. */
    public void closeAll() {
        for (Listener l : listeners) l.closeAll();
        listeners.clear();
        loop.cancel(drainDeadline);
        resetAtShutdown += openCount;
        while (openCount > 0) open[openCount - 1].abortForShutdown();
        pool.close();
        pipes.close(loop.kernel());
        log.flush();
    }
}
