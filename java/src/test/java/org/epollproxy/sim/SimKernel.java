package org.epollproxy.sim;

import static org.epollproxy.shim.Epoll.EPOLLERR;
import static org.epollproxy.shim.Epoll.EPOLLET;
import static org.epollproxy.shim.Epoll.EPOLLHUP;
import static org.epollproxy.shim.Epoll.EPOLLIN;
import static org.epollproxy.shim.Epoll.EPOLLONESHOT;
import static org.epollproxy.shim.Epoll.EPOLLOUT;

import com.kenai.jffi.MemoryIO;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.epollproxy.shim.Epoll;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.Net;
import org.epollproxy.shim.SockAddr;

/**
 * A simulated Linux kernel behind the {@link Kernel} interface: an fd table (lowest free number first,
 * so closed numbers are reused as on Linux), level-triggered epoll, eventfd, listening sockets with a
 * backlog and in-memory TCP connections ({@link End}), plus the faults of {@link Faults}.
 *
 * <p>It returns only what the real shim can return: the shim retries EINTR inside send/recv/accept,
 * turns it into 0 events for epoll_wait and into -EINPROGRESS for connect, and passes it up from
 * close only; so those are the EINTR cases injected here.
 *
 * <p>Memory is real: the proxy passes native addresses (its pool buffers, its event array, its address
 * scratch) and this class reads and writes them with {@link MemoryIO}.
 *
 * <p>Invariants that can only be judged at the moment of a syscall are checked here and thrown as
 * {@link SimViolation}: a FIN forwarded before its direction drained or more than once, a graceful
 * close that silently drops bytes the proxy had read, a connect to anything but the configured
 * backend, a call on an fd that is not open (double close, use after close), an epoll_ctl that does
 * not match the interest list, a loop that wakes up again and again without doing anything.
 */
final class SimKernel implements Kernel {
    private static final MemoryIO MEM = MemoryIO.getInstance();
    private static final int FIRST_FD = 3;

    final World w;
    final SimUdp udp;
    /** UDP backend addresses the proxy may connect its session sockets to, by forward index. */
    final Map<SockAddr, Integer> udpTargets = new LinkedHashMap<>();
    /** The most UDP sessions the proxy may hold at once (Settings.udpMaxSessions). */
    int udpMaxSessions = Integer.MAX_VALUE;
    private Object[] files = new Object[64];
    /** One past the highest fd ever allocated, and whether a UDP socket ever was: bounds for the per-iteration checks. */
    private int fdEnd = FIRST_FD;
    private boolean anyUdp;
    private int openFds;
    final List<SimPair> pairs = new ArrayList<>();
    final List<Listener> listeners = new ArrayList<>();
    private final Map<SockAddr, Target> targets = new LinkedHashMap<>();
    /** The pair whose backend socket comes next: set by accept and by closing a backend socket. */
    private SimPair context;
    /** Pairs whose backend socket() failed and which the proxy will retry, oldest first. */
    private final java.util.ArrayDeque<SimPair> waitingForSocket = new java.util.ArrayDeque<>();

    private SimPair nextWaitingForSocket() {
        while (!waitingForSocket.isEmpty()) {
            SimPair p = waitingForSocket.poll();
            if (!p.allClosed()) return p;
        }
        return null;
    }
    private int nextPort = 40000;
    private int nextBackendId = 5000;
    private long wakesWithoutProgress;
    private long progressAtLastWait = -1;
    /** Checked inside the data path (buffer bound); set by the simulation. */
    Runnable dataPathCheck = () -> {};
    /** True once every client was served and every pair ended; a wait with nothing left to happen then returns. */
    BooleanSupplier finished = () -> false;
    /** Simulated time by which every pair must have ended; describes what is still open otherwise. */
    long giveUpAt = Long.MAX_VALUE;
    java.util.function.Supplier<String> whatIsOpen = () -> "";
    long syscalls;
    long injected;
    long thrown;
    /** The proxy's connect timeout, for the failover check. */
    long connectTimeoutNanos = Long.MAX_VALUE;
    /** How backends behave (a scenario test fixes it). */
    java.util.function.Function<World, Peer.Script> backendScript = Peer.Script::random;
    /** A scenario test's targeted failure: recv on a socket this accepts throws, once. */
    java.util.function.Predicate<End> throwOnRecv = e -> false;

    // ---- forcing: a named scenario makes one situation happen on purpose instead of hoping a seed does ----

    /** A syscall ({@code call}, on {@code file}) throws when this says so (only while faults are on). */
    java.util.function.BiPredicate<String, Object> forceThrow = (call, file) -> false;
    /** epoll_ctl ADD/MOD ({@code op}) of {@code file} fails with -ENOMEM when this says so (only while faults are on). */
    java.util.function.BiPredicate<Integer, Object> forceCtlNomem = (op, file) -> false;
    /**
     * The order of one epoll_wait batch: events are shuffled, then stably sorted by this rank of their
     * file (lower first); null leaves them shuffled. The kernel's ready list order is not the proxy's to
     * rely on, so any order a scenario picks is one Linux may produce.
     */
    java.util.function.ToIntFunction<Object> batchRank;
    /** Forcing knob: every TCP socket's queue holds this many bytes (0: drawn from the seed, 1 to 4096). */
    int forcedQueue;

    /** A new TCP socket's queue size: {@link #forcedQueue}, or drawn. */
    int queueSize() {
        return forcedQueue > 0 ? forcedQueue : w.between(1, 4096);
    }
    /** Whether a connect to an accepting backend answers at once (0) or later (-EINPROGRESS); null = drawn. */
    Boolean connectAtOnce;
    /**
     * Whether a connect that answers -EINPROGRESS has in fact been answered inside the call (accepted or
     * refused), as on loopback, so that a send right after it succeeds or reports the refusal; null = drawn.
     */
    Boolean answeredInConnect;
    /** Forcing knob: the backend side of each connection gets a receive queue of this many bytes (0: {@link #queueSize}). */
    int backendQueue;
    /** Called with the proxy's end of each connection as accept hands it out (a scenario makes its client act first). */
    java.util.function.Consumer<End> onAccept = e -> {};
    /** Sends on a backend socket whose connect was not known to be done: answered EAGAIN, or the connect's error. */
    long sendsWhileConnecting;

    SimKernel(World w) {
        this.w = w;
        this.udp = new SimUdp(w);
    }

    // ---- files ----

    static final class EventFd {
        long count;
    }

    static final class EpollSet {
        /** fd -> {events, token}, in insertion order. */
        final LinkedHashMap<Integer, long[]> interest = new LinkedHashMap<>();
    }

    /** A listening socket: its accept queue holds the proxy-side ends of connections not accepted yet. */
    final class Listener {
        final SockAddr address;
        final int forwardIndex;
        final int backlog;
        final ArrayDeque<End> queue = new ArrayDeque<>();
        int fd;
        boolean closed;

        Listener(SockAddr address, int backlog) {
            this.address = address;
            this.backlog = backlog;
            this.forwardIndex = listeners.size();
        }
    }

    /** A backend address and how it answers connects. */
    static final class Target {
        static final int UP = 0, DOWN = 1, BLACKHOLE = 2, FLAKY = 3;
        final SockAddr address;
        final int forwardIndex;
        final int backendIndex;
        final int mode;

        Target(SockAddr address, int forwardIndex, int backendIndex, int mode) {
            this.address = address;
            this.forwardIndex = forwardIndex;
            this.backendIndex = backendIndex;
            this.mode = mode;
        }
    }

    void addTarget(SockAddr address, int forwardIndex, int backendIndex, int mode) {
        targets.put(address, new Target(address, forwardIndex, backendIndex, mode));
    }

    private int allocate(Object file) {
        if (openFds >= w.faults.fdLimit && w.faultsOn) return -Errno.EMFILE;
        int fd = FIRST_FD;
        while (fd < files.length && files[fd] != null) fd++;
        if (fd == files.length) files = java.util.Arrays.copyOf(files, files.length * 2);
        files[fd] = file;
        if (fd >= fdEnd) fdEnd = fd + 1;
        if (file instanceof SimUdp.Sock) anyUdp = true;
        openFds++;
        return fd;
    }

    private Object file(int fd, String call) {
        Object f = fd >= 0 && fd < files.length ? files[fd] : null;
        if (f == null) throw w.violation(call + " on fd " + fd + ", which is not open (closed twice, or used after close)");
        return f;
    }

    private End end(int fd, String call) {
        Object f = file(fd, call);
        if (!(f instanceof End)) throw w.violation(call + " on fd " + fd + ", which is not a connection socket: " + f);
        return (End) f;
    }

    /** Open fds, for the end-of-run leak check. */
    List<String> openFiles() {
        List<String> out = new ArrayList<>();
        for (int fd = 0; fd < files.length; fd++) if (files[fd] != null) out.add(fd + "=" + describe(files[fd]));
        return out;
    }

    int openFdCount() {
        return openFds;
    }

    private int openPipes;
    private int pipesClosedWithBytes;

    /** Pipes whose read end was closed with bytes still in them. */
    int pipesClosedWithBytes() {
        return pipesClosedWithBytes;
    }

    /** fds in any epoll interest list. */
    List<Integer> registeredFds() {
        List<Integer> out = new ArrayList<>();
        for (Object f : files) if (f instanceof EpollSet) out.addAll(((EpollSet) f).interest.keySet());
        return out;
    }

    Object fileAt(int fd) {
        return fd >= 0 && fd < files.length ? files[fd] : null;
    }

    private static String describe(Object f) {
        if (f instanceof End) return f.toString();
        if (f instanceof Listener) return "listener " + ((Listener) f).address;
        if (f instanceof EpollSet) return "epoll";
        if (f instanceof EventFd) return "eventfd";
        if (f instanceof SimUdp.Sock) return f.toString();
        return String.valueOf(f);
    }

    private void maybeThrow(String call, Object file) {
        if (w.chance(w.faults.thrown) || (w.faultsOn && forceThrow.test(call, file))) {
            thrown++;
            w.log("THROW in " + call);
            throw new SimulatedFault("injected failure in " + call);
        }
    }

    private void maybeInterleave() {
        if (w.chance(w.faults.interleave)) w.interleave();
    }

    // ---- epoll ----

    @Override
    public int epoll_create() {
        syscalls++;
        return allocate(new EpollSet());
    }

    @Override
    public int epoll_ctl(int epfd, int op, int fd, int events, long token) {
        syscalls++;
        Object ep = file(epfd, "epoll_ctl");
        if (!(ep instanceof EpollSet)) throw w.violation("epoll_ctl on fd " + epfd + ", which is not an epoll fd");
        file(fd, op == Epoll.EPOLL_CTL_ADD ? "epoll_ctl ADD" : op == Epoll.EPOLL_CTL_DEL ? "epoll_ctl DEL" : "epoll_ctl MOD");
        Map<Integer, long[]> interest = ((EpollSet) ep).interest;
        if ((events & (EPOLLET | EPOLLONESHOT)) != 0) throw w.violation("the simulation models level-triggered epoll only");
        boolean present = interest.containsKey(fd);
        if (op == Epoll.EPOLL_CTL_ADD && present) throw w.violation("EPOLL_CTL_ADD of fd " + fd + ", already registered (EEXIST)");
        if (op != Epoll.EPOLL_CTL_ADD && !present) throw w.violation("epoll_ctl " + op + " of fd " + fd + ", not registered (ENOENT)");
        if (op != Epoll.EPOLL_CTL_DEL && (w.chance(w.faults.ctlNomem) || (w.faultsOn && forceCtlNomem.test(op, files[fd])))) {
            injected++;
            w.log("epoll_ctl " + op + " fd " + fd + " -> ENOMEM (injected)");
            return -Errno.ENOMEM;
        }
        w.progress++;
        if (op == Epoll.EPOLL_CTL_DEL) interest.remove(fd);
        else interest.put(fd, new long[] {events, token});
        if (w.verbose()) w.log("epoll_ctl " + (op == 1 ? "ADD" : op == 2 ? "DEL" : "MOD") + " fd " + fd + " " + Epoll.describe(events));
        return 0;
    }

    @Override
    public int epoll_wait(int epfd, long out, int max, int timeoutMs) {
        syscalls++;
        EpollSet ep = (EpollSet) file(epfd, "epoll_wait");
        if (w.chance(w.faults.eintrWait)) {
            injected++;
            return 0;
        }
        w.runDue();
        long deadline = timeoutMs < 0 ? Long.MAX_VALUE : w.now + timeoutMs * World.MS;
        while (true) {
            int n = collect(ep, out, max);
            if (n > 0) {
                if (w.progress == progressAtLastWait) {
                    if (++wakesWithoutProgress > 2000) {
                        throw w.violation("the loop spins: " + wakesWithoutProgress + " wakeups in a row changed nothing; "
                                + "ready: " + readyDescription(ep));
                    }
                } else {
                    wakesWithoutProgress = 0;
                }
                progressAtLastWait = w.progress;
                w.now += w.rnd.nextInt(50_000); // the loop's own processing time
                return n;
            }
            progressAtLastWait = -1;
            wakesWithoutProgress = 0;
            if (timeoutMs == 0) return 0;
            long next = w.nextActionTime();
            if (next == Long.MAX_VALUE && deadline == Long.MAX_VALUE) {
                if (finished.getAsBoolean()) return 0;
                throw w.violation("stuck: the loop waits forever (no timer, no ready fd) with work left:" + whatIsOpen.get());
            }
            if (next > deadline) {
                w.now = Math.max(w.now, deadline);
                return 0;
            }
            w.runNext();
            w.runDue();
            if (w.now - giveUpAt > 0) {
                throw w.violation("pairs never end: still open after " + Simulation.MAX_SIM_NANOS / World.SEC
                        + " s simulated:" + whatIsOpen.get());
            }
        }
    }

    private int collect(EpollSet ep, long out, int max) {
        List<long[]> ready = new ArrayList<>();
        for (Map.Entry<Integer, long[]> e : ep.interest.entrySet()) {
            Object f = files[e.getKey()];
            int mask = (int) e.getValue()[0];
            int ev = readiness(f) & (mask | EPOLLERR | EPOLLHUP);
            if (ev == 0 && spuriousAllowed(f) && w.chance(w.faults.spurious)) {
                ev = mask & (EPOLLIN | EPOLLOUT);
                if (ev != 0) injected++;
            }
            if (ev != 0) ready.add(new long[] {e.getValue()[1], ev, e.getKey()});
        }
        // The kernel's ready list order is not ours to rely on.
        for (int i = ready.size() - 1; i > 0; i--) {
            int j = w.rnd.nextInt(i + 1);
            long[] t = ready.get(i);
            ready.set(i, ready.get(j));
            ready.set(j, t);
        }
        if (batchRank != null) ready.sort(java.util.Comparator.comparingInt(r -> batchRank.applyAsInt(files[(int) r[2]])));
        int n = Math.min(ready.size(), max);
        for (int i = 0; i < n; i++) {
            long at = out + (long) i * Epoll.EVENT_SIZE;
            MEM.putLong(at, ready.get(i)[0]);
            MEM.putInt(at + 8, (int) ready.get(i)[1]);
            MEM.putInt(at + 12, 0);
            if (w.verbose()) w.log("event fd " + ready.get(i)[2] + " " + Epoll.describe((int) ready.get(i)[1]));
        }
        return n;
    }

    private String readyDescription(EpollSet ep) {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<Integer, long[]> e : ep.interest.entrySet()) {
            int ev = readiness(files[e.getKey()]) & ((int) e.getValue()[0] | EPOLLERR | EPOLLHUP);
            if (ev != 0) sb.append("fd ").append(e.getKey()).append(' ').append(Epoll.describe(ev)).append(' ')
                    .append(describe(files[e.getKey()])).append("; ");
        }
        return sb.toString();
    }

    /** Spurious readiness only where Linux code must tolerate it: not on a connecting socket, whose OUT means "connected". */
    private static boolean spuriousAllowed(Object f) {
        return f instanceof Listener || f instanceof SimUdp.Sock || (f instanceof End && ((End) f).state == End.CONNECTED);
    }

    private static int readiness(Object f) {
        if (f instanceof End) return ((End) f).events();
        if (f instanceof Listener) return ((Listener) f).queue.isEmpty() ? 0 : EPOLLIN;
        if (f instanceof EventFd) return ((EventFd) f).count > 0 ? EPOLLIN : 0;
        if (f instanceof SimUdp.Sock) return (((SimUdp.Sock) f).rx.isEmpty() ? 0 : EPOLLIN) | EPOLLOUT;
        return 0;
    }

    @Override
    public int sizeof_epoll_event() {
        return 12;
    }

    // ---- file descriptors ----

    @Override
    public int set_nonblocking(int fd) {
        file(fd, "set_nonblocking");
        return 0;
    }

    @Override
    public int get_fd_flags(int fd) {
        file(fd, "get_fd_flags");
        return Net.O_NONBLOCK | 2;
    }

    @Override
    public int close(int fd) {
        syscalls++;
        Object f = file(fd, "close");
        files[fd] = null;
        openFds--;
        w.progress++;
        for (Object o : files) if (o instanceof EpollSet) ((EpollSet) o).interest.remove(fd);
        if (f instanceof End) {
            End e = (End) f;
            if (e.pair != null) {
                checkGracefulClose(e);
                if (e != e.pair.client) context = e.pair; // a failover's next socket() belongs to this pair
            }
            e.close();
            w.log("close fd " + fd + " " + e);
        } else if (f instanceof SimUdp.Sock) {
            udp.close((SimUdp.Sock) f);
        } else if (f instanceof PipeEnd) {
            PipeEnd end = (PipeEnd) f;
            if (!end.readEnd) {
                end.pipe.writerClosed = true;
            } else {
                openPipes--;
                if (end.pipe.bytes.size() > 0) pipesClosedWithBytes++;
            }
        } else if (f instanceof Listener) {
            Listener l = (Listener) f;
            l.closed = true;
            for (End pending : l.queue) pending.peer.reset(false); // the kernel resets unaccepted connections
            l.queue.clear();
        }
        if (w.chance(w.faults.eintrClose)) {
            injected++;
            return -Errno.EINTR; // closed all the same: Linux frees the fd before it can be interrupted
        }
        return 0;
    }

    /** A close that sends a FIN must not hide bytes the proxy read for that peer and never delivered. */
    private void checkGracefulClose(End e) {
        boolean fin = e.state == End.CONNECTED && !e.dead && !e.lingerZero && e.rx.isEmpty() && !e.wrShut
                && !e.peer.closed;
        if (!fin) return;
        SimPair p = e.pair;
        if (e == p.client) {
            long read = p.takenFromBackends();
            if (e.txAccepted != read) {
                throw w.violation("closing the client of pair " + p.id + " with a FIN after sending " + e.txAccepted + " of the "
                        + read + " bytes read from its backend: the client sees a clean end of a truncated stream");
            }
        } else if (e.connectConfirmed && e.txAccepted != p.client.rxTaken + p.proxyHeader.length) {
            throw w.violation("closing the backend of pair " + p.id + " with a FIN after sending " + e.txAccepted + " of the "
                    + (p.client.rxTaken + p.proxyHeader.length) + " bytes read from its client (and the PROXY header):"
                    + " the backend sees a clean end of a truncated stream");
        }
    }

    @Override
    public int eventfd() {
        syscalls++;
        return allocate(new EventFd());
    }

    @Override
    public int eventfd_write(int fd) {
        EventFd e = (EventFd) file(fd, "eventfd_write");
        e.count++;
        return 0;
    }

    @Override
    public int eventfd_read(int fd) {
        EventFd e = (EventFd) file(fd, "eventfd_read");
        if (e.count == 0) return -Errno.EAGAIN;
        int v = (int) Math.min(e.count, Integer.MAX_VALUE);
        e.count = 0;
        w.progress++;
        return v;
    }

    private SimViolation unmodelled(String call) {
        return w.violation(call + " is not modelled by the simulation: model it before the TCP path uses it");
    }

    /** A pipe: bytes in order, up to a (seeded) capacity. */
    static final class Pipe {
        final ByteQueue bytes = new ByteQueue();
        int capacity;
        boolean writerClosed;

        Pipe(int capacity) {
            this.capacity = capacity;
        }
    }

    /** One end of a {@link Pipe} in the fd table. */
    static final class PipeEnd {
        final Pipe pipe;
        final boolean readEnd;

        PipeEnd(Pipe pipe, boolean readEnd) {
            this.pipe = pipe;
            this.readEnd = readEnd;
        }

        @Override
        public String toString() {
            return (readEnd ? "pipe-read" : "pipe-write") + "{" + pipe.bytes.size() + "/" + pipe.capacity + "}";
        }
    }

    @Override
    public long pipe2() {
        syscalls++;
        Pipe p = new Pipe(w.rnd.nextBoolean() ? 65536 : w.between(1, 4096));
        int r = allocate(new PipeEnd(p, true));
        if (r < 0) return r;
        int wr = allocate(new PipeEnd(p, false));
        if (wr < 0) {
            files[r] = null; // pipe2 creates both ends or neither
            openFds--;
            return wr;
        }
        w.progress++;
        openPipes++;
        return ((long) r << 32) | wr;
    }

    /** Pipes whose read end is open (the proxy closes both ends together). */
    int openPipes() {
        return openPipes;
    }

    /** The bytes in every pipe whose read end is open. */
    int bytesInOpenPipes() {
        int n = 0;
        for (Object f : files) if (f instanceof PipeEnd && ((PipeEnd) f).readEnd) n += ((PipeEnd) f).pipe.bytes.size();
        return n;
    }

    /** F_SETPIPE_SZ as Linux does it: a power-of-two number of pages, -EBUSY below what the pipe holds. */
    @Override
    public int set_pipe_size(int fd, int size) {
        syscalls++;
        Object f = file(fd, "set_pipe_size");
        if (!(f instanceof PipeEnd)) throw w.violation("F_SETPIPE_SZ on fd " + fd + ", which is not a pipe: " + f);
        Pipe p = ((PipeEnd) f).pipe;
        int capacity = 4096;
        while (capacity < size) capacity <<= 1;
        if (capacity < p.bytes.size()) return -Errno.EBUSY;
        p.capacity = capacity;
        return capacity;
    }

    @Override
    public int pipe_size(int fd) {
        syscalls++;
        Object f = file(fd, "pipe_size");
        if (!(f instanceof PipeEnd)) throw w.violation("F_GETPIPE_SZ on fd " + fd + ", which is not a pipe: " + f);
        return ((PipeEnd) f).pipe.capacity;
    }

    /**
     * splice between a connected socket and a pipe, either way: socket -> pipe behaves like recv into the
     * pipe, pipe -> socket like send from it. -EINVAL may be injected: a socket that cannot splice.
     */
    @Override
    public int splice(int fdIn, int fdOut, int len, int flags) {
        syscalls++;
        Object in = file(fdIn, "splice in");
        Object out = file(fdOut, "splice out");
        boolean fill = in instanceof End && out instanceof PipeEnd && !((PipeEnd) out).readEnd;
        boolean drain = in instanceof PipeEnd && ((PipeEnd) in).readEnd && out instanceof End;
        if (!fill && !drain) throw unmodelled("splice from " + describe(in) + " to " + describe(out));
        End e = (End) (fill ? in : out);
        Pipe p = fill ? ((PipeEnd) out).pipe : ((PipeEnd) in).pipe;
        if (e.state == End.CONNECTING || e.state == End.NEW) throw w.violation("splice on a socket that is not connected: " + e);
        if (drain) e.connectConfirmed = true;
        maybeInterleave();
        maybeThrow("splice", e);
        if (w.chance(w.faults.spliceInval)) {
            injected++;
            return -Errno.EINVAL;
        }
        if (w.chance(w.faults.eagain)) {
            injected++;
            return -Errno.EAGAIN;
        }
        int want = Math.min(len, fill ? p.capacity - p.bytes.size() : p.bytes.size());
        if (want == 0) return fill || !p.writerClosed ? -Errno.EAGAIN : 0;
        if (want > 1 && w.chance(w.faults.partial)) {
            injected++;
            want = 1 + w.rnd.nextInt(want);
        }
        byte[] tmp = new byte[want];
        int n;
        if (fill) {
            dataPathCheck.run();
            n = e.read(tmp, want);
            if (n > 0) p.bytes.add(tmp, 0, n);
        } else {
            p.bytes.peek(tmp, 0, want);
            n = e.write(tmp, 0, want);
            if (n > 0) {
                p.bytes.skip(n);
                e.used = true;
            }
        }
        if (w.verbose()) w.log("splice fd " + fdIn + " -> fd " + fdOut + " " + len + " -> " + (n < 0 ? Errno.name(n) : n));
        return n;
    }

    /** read(2) is used on a pipe's read end only (emptying it when splice falls back to copying). */
    @Override
    public int read(int fd, long buf, int len) {
        syscalls++;
        Object f = file(fd, "read");
        if (!(f instanceof PipeEnd) || !((PipeEnd) f).readEnd) throw unmodelled("read on " + describe(f));
        Pipe p = ((PipeEnd) f).pipe;
        if (p.bytes.isEmpty()) return p.writerClosed ? 0 : -Errno.EAGAIN;
        byte[] tmp = new byte[Math.min(len, p.bytes.size())];
        int n = p.bytes.take(tmp, 0, tmp.length);
        MEM.putByteArray(buf, tmp, 0, n);
        w.progress++;
        return n;
    }

    @Override
    public int write(int fd, long buf, int len) {
        throw unmodelled("write");
    }

    /** The simulated world has no C heap to give back. */
    @Override
    public int malloc_trim(int pad) {
        return 0;
    }

    // The simulation stays on epoll: no io_uring, and so no mappings to make (ENOSYS, as on a kernel without it).

    @Override
    public long mmap(long len, int prot, int flags, int fd, long off) {
        return -Errno.ENOSYS;
    }

    @Override
    public int munmap(long addr, long len) {
        return -Errno.ENOSYS;
    }

    @Override
    public int io_uring_setup(int entries, long params) {
        return -Errno.ENOSYS;
    }

    @Override
    public int io_uring_enter(int fd, int toSubmit, int minComplete, int flags, long arg) {
        return -Errno.ENOSYS;
    }

    @Override
    public int io_uring_register(int fd, int opcode, long arg, int nrArgs) {
        return -Errno.ENOSYS;
    }

    // ---- sockets ----

    @Override
    public int sizeof_addr() {
        return SockAddr.SIZE;
    }

    @Override
    public int socket(int domain, int type, int protocol) {
        syscalls++;
        if ((type & 0xf) == Net.SOCK_DGRAM) {
            int fd = allocate(new SimUdp.Sock(true, w.between(1, 64)));
            if (fd >= 0) w.progress++;
            return fd;
        }
        if ((type & 0xf) != Net.SOCK_STREAM) throw unmodelled("socket type " + type);
        End e = new End(w, "proxy-socket", queueSize());
        int fd = allocate(e);
        SimPair p = context;
        context = null;
        if (p != null && p.allClosed()) p = null; // left over from that pair's normal end, not a failover
        if (p == null) p = nextWaitingForSocket();
        if (fd < 0) {
            // The proxy keeps a client whose backend socket failed (EMFILE) and retries from a timer, with
            // no accept or close just before: remember whose socket this was to be.
            if (p != null) waitingForSocket.add(p);
            return fd;
        }
        w.progress++;
        if (p != null) {
            e.pair = p;
            p.backends.add(e);
        }
        return fd;
    }

    @Override
    public int setsockopt_int(int fd, int level, int name, int value) {
        syscalls++;
        file(fd, "setsockopt");
        maybeThrow("setsockopt", files[fd]);
        return 0;
    }

    @Override
    public int getsockopt_int(int fd, int level, int name) {
        file(fd, "getsockopt");
        return 0;
    }

    @Override
    public int set_linger(int fd, int onoff, int seconds) {
        syscalls++;
        End e = end(fd, "set_linger");
        e.lingerZero = onoff != 0 && seconds == 0;
        return 0;
    }

    @Override
    public int sock_error(int fd) {
        syscalls++;
        End e = end(fd, "sock_error");
        maybeInterleave();
        if (e.soError != 0) return e.takeError();
        if (e.state == End.CONNECTED) e.connectConfirmed = true;
        return 0;
    }

    @Override
    public int bind(int fd, long addr) {
        if (file(fd, "bind") instanceof SimUdp.Sock) {
            udp.bind((SimUdp.Sock) files[fd], readAddr(addr));
            return 0;
        }
        End e = end(fd, "bind");
        SockAddr a = readAddr(addr);
        if (a.port() == 0) a = a.withPort(nextPort++);
        e.address = a;
        return 0;
    }

    @Override
    public int listen(int fd, int backlog) {
        End e = end(fd, "listen");
        Listener l = new Listener(e.address, Math.min(backlog, w.between(1, 8)));
        l.fd = fd;
        files[fd] = l;
        listeners.add(l);
        return 0;
    }

    /** A client connects to listener {@code l}: queued for accept, or refused when the backlog is full. */
    boolean enqueue(Listener l, End proxySide) {
        if (l.closed || l.queue.size() >= l.backlog) return false;
        l.queue.add(proxySide);
        return true;
    }

    @Override
    public int accept(int fd, long outAddr) {
        syscalls++;
        Object f = file(fd, "accept");
        if (!(f instanceof Listener)) throw w.violation("accept on fd " + fd + ", not a listener");
        Listener l = (Listener) f;
        maybeInterleave();
        maybeThrow("accept", l);
        if (l.queue.isEmpty()) return -Errno.EAGAIN;
        if (w.chance(w.faults.eagain)) {
            injected++;
            return -Errno.EAGAIN; // another process sharing the port took it
        }
        End e = l.queue.peek();
        int c = allocate(e);
        if (c < 0) return c; // EMFILE: the connection stays in the backlog
        l.queue.poll();
        w.progress++;
        if (outAddr != 0) writeAddr(outAddr, e.peer.address);
        context = e.pair;
        w.log("accept fd " + c + " " + e.name);
        onAccept.accept(e);
        return c;
    }

    @Override
    public int connect(int fd, long addr) {
        syscalls++;
        if (file(fd, "connect") instanceof SimUdp.Sock) return connectUdp((SimUdp.Sock) files[fd], readAddr(addr));
        End e = end(fd, "connect");
        SockAddr a = readAddr(addr);
        SimPair p = e.pair;
        if (p == null) throw w.violation("connect to " + a + " from a socket the simulation cannot tie to an accepted client");
        int attempt = p.backends.indexOf(e);
        Target t = targets.get(a);
        if (t == null || t.forwardIndex != p.forwardIndex) {
            throw w.violation("pair " + p.id + " attempt " + attempt + " connects to " + a + ", which is not a backend of forward " + p.forwardIndex);
        }
        checkBalancedConnect(p, attempt, a);
        if (e.state != End.NEW) throw w.violation("connect on a socket in state " + e.state);
        if (attempt > 0) checkFailover(p, p.backends.get(attempt - 1));
        maybeThrow("connect", e);
        e.address = a;
        w.progress++;
        int mode = t.mode == Target.FLAKY ? w.rnd.nextInt(3) : t.mode;
        e.outcome = mode;
        e.connectCalledAt = w.now;
        int answer = w.rnd.nextInt(8); // 0: at once (connect returns 0), 1: inside the call (loopback), else later
        boolean now = answer == 0;
        if (connectAtOnce != null) now = connectAtOnce;
        boolean inCall = answeredInConnect != null ? answeredInConnect : answer == 1;
        boolean eintr = w.chance(w.faults.eintrConnect);
        if (mode == Target.UP) {
            if (now && !eintr) {
                completeConnect(e, p);
                e.connectConfirmed = true;
                return 0;
            }
            e.state = End.CONNECTING;
            if (inCall) { // loopback: the handshake is over before connect() returns, which still says EINPROGRESS
                completeConnect(e, p);
                return -Errno.EINPROGRESS;
            }
            long delay = w.rnd.nextInt(10) == 0 ? w.between(5, 6000) * World.MS : w.rnd.nextLong(3 * World.MS);
            w.after(now ? 0 : delay, "connect " + e.name + " completes", () -> completeConnect(e, p));
            return -Errno.EINPROGRESS;
        }
        if (mode == Target.DOWN) {
            if (now && !eintr) return -Errno.ECONNREFUSED;
            e.state = End.CONNECTING;
            if (inCall) { // loopback: the RST came back before connect() returned EINPROGRESS
                e.refuse();
                return -Errno.EINPROGRESS;
            }
            w.after(w.rnd.nextLong(3 * World.MS), "connect " + e.name + " refused", () -> {
                if (!e.closed) e.refuse();
            });
            return -Errno.EINPROGRESS;
        }
        e.state = End.CONNECTING; // BLACKHOLE: the SYN is never answered
        return -Errno.EINPROGRESS;
    }

    /**
     * The balance policy's choice (a hook the simulation sets): {@code markedDown} says whether the proxy
     * has the address marked down now; {@code expectedBackend} (optional) which backend index the scenario's
     * policy must pick for an attempt. Null: no check.
     */
    java.util.function.Predicate<SockAddr> markedDown;

    /** A pair never tries one backend twice, and never one marked down (then it must be skipped). */
    private void checkBalancedConnect(SimPair p, int attempt, SockAddr a) {
        for (int i = 0; i < attempt; i++) {
            if (a.equals(p.backends.get(i).address)) {
                throw w.violation("pair " + p.id + " attempt " + attempt + " connects to " + a + " again (attempt " + i + " tried it)");
            }
        }
        if (markedDown != null && markedDown.test(a)) {
            throw w.violation("pair " + p.id + " attempt " + attempt + " connects to " + a + ", which the proxy has marked down");
        }
        balancedConnects++;
    }

    /** Connects checked by {@link #checkBalancedConnect}. */
    long balancedConnects;

    /**
     * Moving on to the next backend is right after a refusal, a reset or the connect timeout; a backend
     * that was answering (or about to), unharmed and not yet out of time was abandoned for nothing: a
     * stale or misrouted event, for instance.
     */
    private void checkFailover(SimPair p, End previous) {
        if (previous.outcome == Target.UP && !previous.dead && w.now - previous.connectCalledAt < connectTimeoutNanos) {
            throw w.violation("pair " + p.id + " gave up backend " + previous.name + " after "
                    + (w.now - previous.connectCalledAt) / 1000 + " us: it was accepting, and the connect timeout is "
                    + connectTimeoutNanos / 1000 + " us");
        }
    }

    private void completeConnect(End e, SimPair p) {
        if (e.closed) return; // the proxy gave up first; the backend saw a SYN and an RST at most
        int id = nextBackendId++;
        End backendSide = new End(w, "backend-" + id, backendQueue > 0 ? backendQueue : queueSize());
        End.link(e, backendSide);
        e.name = "proxy-b" + p.id + "/" + id;
        Peer b = new Peer(w, backendSide, "backend-" + id + "(pair " + p.id + ")", id, s -> s == p.clientPeer.streamId,
                backendScript.apply(w));
        b.prefix = p.proxyHeader;
        p.backendPeers.add(b);
        b.start(w.rnd.nextLong(2 * World.MS));
    }

    @Override
    public int getsockname(int fd, long outAddr) {
        Object f = file(fd, "getsockname");
        SockAddr a = f instanceof Listener ? ((Listener) f).address
                : f instanceof SimUdp.Sock ? ((SimUdp.Sock) f).local : ((End) f).address;
        writeAddr(outAddr, a);
        return 0;
    }

    @Override
    public int getpeername(int fd, long outAddr) {
        End e = end(fd, "getpeername");
        if (e.peer == null) return -Errno.ENOTCONN;
        writeAddr(outAddr, e.peer.address);
        return 0;
    }

    @Override
    public int recv(int fd, long buf, int len) {
        syscalls++;
        End e = end(fd, "recv");
        if (e.state == End.CONNECTING || e.state == End.NEW) throw w.violation("recv on a socket that is not connected: " + e);
        maybeInterleave();
        maybeThrow("recv", e);
        if (throwOnRecv.test(e)) {
            throwOnRecv = x -> false;
            thrown++;
            throw new SimulatedFault("injected failure in recv on " + e.name);
        }
        dataPathCheck.run();
        int want = faultyLength(len);
        if (want < 0) return want;
        byte[] tmp = new byte[Math.min(want, Math.max(1, e.rx.size()))];
        int n = e.read(tmp, tmp.length);
        if (n > 0) MEM.putByteArray(buf, tmp, 0, n);
        if (w.verbose()) w.log("recv fd " + fd + " " + len + " -> " + (n < 0 ? Errno.name(n) : n));
        return n;
    }

    /** recv/send's faults: an injected -EAGAIN (returned as it is), or {@code len} cut short (a partial move). */
    private int faultyLength(int len) {
        if (w.chance(w.faults.eagain)) {
            injected++;
            return -Errno.EAGAIN;
        }
        if (len > 1 && w.chance(w.faults.partial)) {
            injected++;
            return 1 + w.rnd.nextInt(len);
        }
        return len;
    }

    @Override
    public int send(int fd, long buf, int len) {
        syscalls++;
        if (file(fd, "send") instanceof SimUdp.Sock) {
            SimUdp.Sock u = (SimUdp.Sock) files[fd];
            if (u.peer == null) throw w.violation("send on an unconnected UDP socket " + u);
            return sendDatagram(u, u.peer, buf, len);
        }
        End e = end(fd, "send");
        if (e.state == End.NEW) throw w.violation("send on a socket that is not connected: " + e);
        if (e.state == End.CONNECTING || e.state == End.FAILED) {
            // tcp_sendmsg waits for the connect (sk_stream_wait_connect): -EAGAIN in SYN-SENT on a non-blocking
            // socket, the connect's error once refused (then -EPIPE). No byte goes anywhere.
            sendsWhileConnecting++;
            return e.soError != 0 ? e.takeError() : e.state == End.FAILED ? -Errno.EPIPE : -Errno.EAGAIN;
        }
        e.connectConfirmed = true; // sending is the proxy saying it is connected
        maybeInterleave();
        maybeThrow("send", e);
        int want = faultyLength(len);
        if (want < 0) return want;
        byte[] tmp = new byte[want];
        MEM.getByteArray(buf, tmp, 0, want);
        int n = e.write(tmp, 0, want);
        if (n > 0) e.used = true;
        if (w.verbose()) w.log("send fd " + fd + " " + len + " -> " + (n < 0 ? Errno.name(n) : n));
        return n;
    }

    // ---- UDP ----

    private int connectUdp(SimUdp.Sock u, SockAddr a) {
        if (!udpTargets.containsKey(a)) throw w.violation("a UDP session connects to " + a + ", which is no configured backend");
        u.peer = a;
        udp.ensureBound(u);
        w.progress++;
        long sessions = 0;
        for (Object f : files) if (f instanceof SimUdp.Sock && ((SimUdp.Sock) f).peer != null) sessions++;
        // live sessions (at most the cap) plus ended ones whose socket is in quarantine (at most the cap too)
        if (sessions > 2L * udpMaxSessions) {
            throw w.violation(sessions + " UDP session sockets open, the limit is " + udpMaxSessions + " sessions + as many in quarantine");
        }
        return 0;
    }

    private int sendDatagram(SimUdp.Sock u, SockAddr to, long buf, int len) {
        maybeInterleave();
        if (w.chance(w.faults.eagain)) {
            injected++;
            return -Errno.EAGAIN;
        }
        byte[] data = new byte[len];
        MEM.getByteArray(buf, data, 0, len);
        udp.deliver(to, data, u.local);
        return len;
    }

    /** recvfrom(MSG_TRUNC): the datagram's real length, at most len bytes copied, the sender's address. */
    @Override
    public int recvfrom(int fd, long buf, int len, long outAddr) {
        syscalls++;
        Object f = file(fd, "recvfrom");
        if (!(f instanceof SimUdp.Sock)) throw unmodelled("recvfrom on " + describe(f));
        SimUdp.Sock u = (SimUdp.Sock) f;
        maybeInterleave();
        SimUdp.Datagram d = u.rx.poll();
        if (d == null) return -Errno.EAGAIN;
        MEM.putByteArray(buf, d.data, 0, Math.min(len, d.data.length));
        if (outAddr != 0) writeAddr(outAddr, d.from);
        w.progress++;
        return d.data.length;
    }

    @Override
    public int sendto(int fd, long buf, int len, long addr) {
        syscalls++;
        Object f = file(fd, "sendto");
        if (!(f instanceof SimUdp.Sock)) throw unmodelled("sendto on " + describe(f));
        return sendDatagram((SimUdp.Sock) f, readAddr(addr), buf, len);
    }

    /** Every open UDP session socket is watched for IN: a session nobody reads is deaf. */
    void checkUdpSessionsWatched() {
        if (!anyUdp) return;
        List<EpollSet> sets = null; // found once per check, not once per session (this runs every iteration)
        for (int fd = 0; fd < fdEnd; fd++) {
            if (!(files[fd] instanceof SimUdp.Sock) || ((SimUdp.Sock) files[fd]).peer == null) continue;
            if (sets == null) {
                sets = new ArrayList<>();
                for (Object o : files) if (o instanceof EpollSet) sets.add((EpollSet) o);
            }
            boolean watched = false;
            for (EpollSet set : sets) {
                long[] interest = set.interest.get(fd);
                if (interest != null) watched = (interest[0] & EPOLLIN) != 0;
            }
            if (!watched) throw w.violation("UDP session socket fd " + fd + " " + files[fd] + " is open but not watched for IN");
        }
    }

    /** Open UDP session sockets (connected ones). */
    int openUdpSessions() {
        int n = 0;
        for (Object f : files) if (f instanceof SimUdp.Sock && ((SimUdp.Sock) f).peer != null) n++;
        return n;
    }

    @Override
    public int shutdown(int fd, int how) {
        syscalls++;
        End e = end(fd, "shutdown");
        if (how != Net.SHUT_WR) throw unmodelled("shutdown how=" + how);
        maybeInterleave();
        maybeThrow("shutdown", e);
        if (e.pair != null) checkForwardedFin(e);
        e.used = true;
        int rc = e.shutdownWrite();
        w.log("shutdown fd " + fd + " -> " + rc + " " + e);
        return rc;
    }

    /** A FIN the proxy forwards: once, after its sender's FIN, after every byte read from that sender went out. */
    private void checkForwardedFin(End e) {
        SimPair p = e.pair;
        if (e.shutdowns > 0) throw w.violation("second shutdown(SHUT_WR) on " + e + " of pair " + p.id + ": a FIN forwarded twice");
        End from = e == p.client ? p.currentBackend() : p.client;
        if (from == null || !from.finArrived) {
            throw w.violation("FIN forwarded to " + e.name + " of pair " + p.id + " but its sender sent none: " + from);
        }
        if (from.eofReads == 0 || !from.rx.isEmpty()) {
            throw w.violation("FIN forwarded to " + e.name + " of pair " + p.id + " before the proxy read everything up to the"
                    + " sender's FIN: " + from);
        }
        long expected = from.rxTaken + (e == p.client ? 0 : p.proxyHeader.length);
        if (e.txAccepted != expected) {
            throw w.violation("FIN forwarded to " + e.name + " of pair " + p.id + " after sending " + e.txAccepted + " of the "
                    + expected + " bytes read from " + from.name + " (and the PROXY header): the buffer had not drained");
        }
    }

    // The takeover control socket is not simulated (the forwarding path never calls these): ENOSYS.

    @Override
    public int getuid() {
        return 0;
    }

    @Override
    public int gettid() {
        return 1;
    }

    // The forwarding path never dups or opens a file (the epoll lessons do, on the real shim): ENOSYS.

    @Override
    public int dup(int fd) {
        return -Errno.ENOSYS;
    }

    @Override
    public int dup3(int fd, int to) {
        return -Errno.ENOSYS;
    }

    @Override
    public int open(long path, int flags) {
        return -Errno.ENOSYS;
    }

    @Override
    public int peer_uid(int fd) {
        return -Errno.ENOSYS;
    }

    @Override
    public int peer_pid(int fd) {
        return -Errno.ENOSYS;
    }

    @Override
    public int set_cloexec(int fd) {
        return -Errno.ENOSYS;
    }

    @Override
    public int send_fd(int sock, long buf, int len, int passFd) {
        return -Errno.ENOSYS;
    }

    @Override
    public int recv_fd(int sock, long buf, int len, long outFd) {
        return -Errno.ENOSYS;
    }

    // Nor are socket files (the simulated proxies listen on IP addresses).

    @Override
    public int lstat(long path, long out) {
        return -Errno.ENOSYS;
    }

    @Override
    public int fstat(int fd, long out) {
        return -Errno.ENOSYS;
    }

    @Override
    public int mkdir(long path, int mode) {
        return -Errno.ENOSYS;
    }

    @Override
    public int rmdir(long path) {
        return -Errno.ENOSYS;
    }

    @Override
    public int unlink(long path) {
        return -Errno.ENOSYS;
    }

    @Override
    public int rename(long from, long to, int flags) {
        return -Errno.ENOSYS;
    }

    @Override
    public int chmod(long path, int mode) {
        return -Errno.ENOSYS;
    }

    @Override
    public int open_directory(long path) {
        return -Errno.ENOSYS;
    }

    @Override
    public int strerror(int err, long buf, int len) {
        return -Errno.ENOSYS;
    }

    @Override
    public long constant(String name) {
        return Long.MIN_VALUE;
    }

    // ---- addresses in the shim's layout ----

    private static SockAddr readAddr(long addr) {
        byte[] b = new byte[SockAddr.SIZE];
        MEM.getByteArray(addr, b, 0, b.length);
        return SockAddr.read(ByteBuffer.wrap(b).order(ByteOrder.nativeOrder()), 0);
    }

    private static void writeAddr(long addr, SockAddr a) {
        ByteBuffer b = ByteBuffer.allocate(SockAddr.SIZE).order(ByteOrder.nativeOrder());
        a.write(b, 0);
        MEM.putByteArray(addr, b.array(), 0, SockAddr.SIZE);
    }
}
