package org.epollproxy.loop;

import static org.epollproxy.shim.Epoll.EPOLLIN;

import java.util.Arrays;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.SyscallException;

/**
 * A single-threaded, level-triggered epoll loop in the style of redis' ae.c: register an fd with a
 * {@link Handler}, set its interest mask, and the loop dispatches ready events, runs expired
 * {@link Timer}s and tasks posted from other threads.
 *
 * <p><b>Tokens.</b> The value stored in {@code epoll_event.data} is {@code (generation << 32) | slot}.
 * Closing an fd frees its slot and bumps the slot's generation, so an event still queued in the
 * current batch for that fd (whose number {@code accept} may already have reused) is recognised as
 * stale and dropped, instead of being delivered to the new connection.
 *
 * <p><b>Interest.</b> Each slot caches its registered mask; {@link #setInterest} tells the {@link Poller}
 * only when the mask changes. The poller is the kernel's side: {@link EpollPoller} (epoll_ctl, epoll_wait)
 * unless the loop was made for io_uring, which switches to {@link UringPoller} on its own thread's first
 * iteration (the ring is the thread's: {@code IORING_SETUP_SINGLE_ISSUER}) and stays on epoll, saying
 * why, where the kernel refuses a ring.
 *
 * <p><b>Time.</b> The epoll_wait timeout is the time to the earliest timer; no timer threads.
 *
 * <p>All methods except {@link #execute}, {@link #wakeup} and {@link #stop} must be called on the
 * loop thread.
 */
public final class EventLoop implements AutoCloseable {
    private static final int WAKE_SLOT = 0;
    private static final Handler NO_HANDLER = null;

    private final Kernel kernel;
    private Poller poller;
    /** Made for io_uring ({@code --io-uring}) and not yet tried: the first iteration tries. */
    private boolean ringWanted;
    private final int wakeFd;
    private final int id;
    private final LoopStats stats = new LoopStats();
    private final TimerHeap timers = new TimerHeap();
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean wakePending = new AtomicBoolean();
    private final Consumer<String> errorLog;
    private final LongSupplier clock;
    private volatile boolean stopping;
    /** Set once by close(); wakeup() checks it under wakeLock so it never writes to a closed fd number. */
    private volatile boolean closed;
    private final Object wakeLock = new Object();
    private Runnable endOfIteration = () -> {};
    static final long POLL_REFUSAL_LOG_NANOS = 10_000_000_000L;
    private final ThrottledLine pollRefusals = new ThrottledLine(POLL_REFUSAL_LOG_NANOS);

    // Slot tables, indexed by the low 32 bits of a token. Slot 0 is the wakeup eventfd.
    private Handler[] handlers = new Handler[256];
    private int[] fds = new int[256];
    private int[] masks = new int[256];
    private int[] generations = new int[256];
    private int[] freeSlots = new int[256];
    private int freeCount;
    private int nextUnused = 1;
    private int liveSlots;

    private long now;

    public EventLoop(Kernel kernel, int id, Consumer<String> errorLog) {
        this(kernel, id, errorLog, System::nanoTime);
    }

    /**
     * @param clock nanosecond clock for timers ({@code System::nanoTime}); a simulated kernel passes its
     *     own so timeouts happen in simulated time
     */
    public EventLoop(Kernel kernel, int id, Consumer<String> errorLog, LongSupplier clock) {
        this(kernel, id, errorLog, clock, false);
    }

    /**
     * @param ioUring wait and send through io_uring ({@link UringPoller}) from the first iteration on, if
     *     the kernel lets this thread set up a ring; else epoll, with one line to {@code errorLog}
     */
    public EventLoop(Kernel kernel, int id, Consumer<String> errorLog, LongSupplier clock, boolean ioUring) {
        this.kernel = kernel;
        this.ringWanted = ioUring;
        this.id = id;
        this.errorLog = errorLog;
        this.clock = clock;
        this.now = clock.getAsLong();
        int efd = kernel.eventfd();
        if (efd < 0) throw new SyscallException("eventfd", efd);
        try {
            this.poller = new EpollPoller(kernel, stats, efd, WAKE_SLOT);
        } catch (SyscallException e) {
            kernel.close(efd);
            throw e;
        }
        this.wakeFd = efd;
        fds[WAKE_SLOT] = efd;
        masks[WAKE_SLOT] = EPOLLIN;
    }

    public int id() {
        return id;
    }

    public Kernel kernel() {
        return kernel;
    }

    public LoopStats stats() {
        return stats;
    }

    /**
     * The clock as of the last wakeup: read once when epoll_wait returns and shared by every handler and
     * timer of that iteration; each posted task reads it again as it starts. (Before the next wait,
     * {@code waitTimeout} reads the clock once more when a timer is pending: the iteration's work has taken
     * time since, and a timeout measured from this value would sleep past the earliest deadline by that much.)
     */
    public long now() {
        return now;
    }

    /** Run after each iteration's events, timers and tasks (e.g. to flush a log batch in one write). */
    public void setEndOfIteration(Runnable r) {
        this.endOfIteration = r;
    }

    /** Number of fds registered through {@link #register} and not yet released. */
    public int liveSlots() {
        return liveSlots;
    }

    // ---- registration ----

    /** Reserves a slot for {@code fd} and returns its token; no epoll_ctl yet (interest is 0). */
    public long register(int fd, Handler handler) {
        int slot;
        if (freeCount > 0) {
            slot = freeSlots[--freeCount];
        } else {
            slot = nextUnused++;
            if (slot == handlers.length) grow();
        }
        handlers[slot] = handler;
        fds[slot] = fd;
        masks[slot] = 0;
        liveSlots++;
        return ((long) generations[slot] << 32) | slot;
    }

    private void grow() {
        int n = handlers.length * 2;
        handlers = Arrays.copyOf(handlers, n);
        fds = Arrays.copyOf(fds, n);
        masks = Arrays.copyOf(masks, n);
        generations = Arrays.copyOf(generations, n);
        freeSlots = Arrays.copyOf(freeSlots, n);
    }

    private int slotOf(long token) {
        int slot = (int) token;
        if (slot <= 0 || slot >= nextUnused || generations[slot] != (int) (token >>> 32) || handlers[slot] == null) {
            throw new IllegalStateException("stale or unknown token " + Long.toHexString(token));
        }
        return slot;
    }

    /** The mask currently registered for {@code token} (0 = not in the epoll set). */
    public int interest(long token) {
        return masks[slotOf(token)];
    }

    /**
     * Makes {@code mask} the fd's interest, telling the poller only when it changes (with epoll: at most
     * one epoll_ctl). Returns 0 or -errno (the cached mask changes only on success).
     */
    public int setInterest(long token, int mask) {
        int slot = slotOf(token);
        int old = masks[slot];
        if (old == mask) return 0;
        int rc = poller.interest(slot, fds[slot], token, old, mask);
        if (rc == 0) masks[slot] = mask;
        return rc;
    }

    /**
     * Frees the slot of {@code token}; call it right before closing the fd. Pass {@code delete = true} for
     * an fd that stays open, or whose socket another process may hold (a listener after a takeover or
     * under systemd): see {@link EpollPoller#release}.
     */
    public void release(long token, boolean delete) {
        int slot = slotOf(token);
        poller.release(slot, fds[slot], masks[slot], delete);
        handlers[slot] = NO_HANDLER;
        masks[slot] = 0;
        fds[slot] = -1;
        generations[slot]++;
        freeSlots[freeCount++] = slot;
        liveSlots--;
    }

    // ---- timers and tasks ----

    /** Timers scheduled now (tests: nothing left behind once every connection ended). */
    public int scheduledTimers() {
        return timers.size();
    }

    public void schedule(Timer t, long deadlineNanos) {
        timers.add(t, deadlineNanos);
    }

    public void cancel(Timer t) {
        timers.remove(t);
    }

    /**
     * Runs {@code task} on the loop thread soon; safe from any thread. Returns false (and drops the task)
     * if the loop is already closed.
     */
    public boolean execute(Runnable task) {
        if (closed) return false;
        tasks.add(task);
        wakeup();
        return true;
    }

    /**
     * Interrupts a blocked epoll_wait; N calls before the loop wakes cost one eventfd write. After
     * {@link #close} it does nothing: the eventfd's number may already belong to another file.
     */
    public void wakeup() {
        if (wakePending.compareAndSet(false, true)) {
            synchronized (wakeLock) {
                if (!closed) kernel.eventfd_write(wakeFd);
            }
        }
    }

    public boolean isStopping() {
        return stopping;
    }

    /** Asks {@link #run} to return after the current iteration; safe from any thread. */
    public void stop() {
        stopping = true;
        wakeup();
    }

    // ---- the loop ----

    /** Runs iterations until {@link #stop}. */
    public void run() {
        while (!stopping) runOnce(-1);
    }

    /**
     * One iteration: wait (bounded by the earliest timer and by {@code maxWaitMs} unless it is -1),
     * dispatch events, run expired timers, run posted tasks. Returns the number of events.
     */
    public int runOnce(int maxWaitMs) {
        if (ringWanted) switchToRing();
        int timeout = waitTimeout(maxWaitMs);
        int n = poller.poll(timeout, this);
        stats.events += n;
        runTimers();
        runTasks();
        endOfIteration.run();
        return n;
    }

    private int waitTimeout(int maxWaitMs) {
        if (!tasks.isEmpty() || stopping) return 0;
        Timer first = timers.peek();
        if (first == null) return maxWaitMs;
        long nanos = first.deadline - clock.getAsLong();
        if (nanos <= 0) return 0;
        long ms = (nanos + 999_999) / 1_000_000; // round up: waking early would spin until the deadline
        if (maxWaitMs >= 0) ms = Math.min(ms, maxWaitMs);
        return (int) Math.min(ms, Integer.MAX_VALUE);
    }

    /** The poller's wait returned: the iteration's clock starts here. */
    void woke() {
        now = clock.getAsLong();
        stats.waits++;
    }

    /**
     * On the loop's thread, before its first wait: a ring for this thread, every registered fd moved to it,
     * the epoll fd closed. A kernel that refuses (no io_uring, {@code kernel.io_uring_disabled}, a container's
     * seccomp filter, too little locked memory) leaves the loop on epoll, said once on {@code errorLog}.
     */
    private void switchToRing() {
        ringWanted = false;
        UringPoller ring;
        try {
            ring = UringPoller.open(kernel, stats);
        } catch (SyscallException e) {
            errorLog.accept("loop " + id + ": io_uring refused (" + e.getMessage() + "); this loop uses epoll");
            return;
        }
        for (int slot = 0; slot < nextUnused; slot++) {
            if (masks[slot] != 0) ring.interest(slot, fds[slot], ((long) generations[slot] << 32) | slot, 0, masks[slot]);
        }
        poller.close();
        poller = ring;
        stats.ioUring = 1;
    }

    /** "epoll" or "io_uring": how this loop waits now (a loop made for io_uring switches in its first iteration). */
    public String pollerName() {
        return poller.name();
    }

    /** Whether {@link #sendAsync} may be used: the loop runs on io_uring. */
    public boolean sendsAsync() {
        return poller instanceof UringPoller;
    }

    /**
     * Hands the send of {@code [buf, buf+len)} to {@code fd} to the kernel, to finish on its own
     * ({@code MSG_WAITALL}: partial sends are the kernel's to continue); {@code owner.onSent} tells how it
     * ended, in a later iteration. The buffer must stay untouched until then. Only when {@link #sendsAsync}.
     * Returns a handle for {@link #cancelSend}.
     */
    public int sendAsync(int fd, long buf, int len, SendCompletion owner) {
        return ((UringPoller) poller).send(fd, buf, len, owner);
    }

    /** Asks the kernel to stop the send of {@code handle} (its connection is closing); its onSent still comes. */
    public void cancelSend(int handle) {
        ((UringPoller) poller).cancelSend(handle);
    }

    void dispatch(long token, int events) {
        int slot = (int) token;
        if (slot == WAKE_SLOT) {
            stats.wakeups++;
            // Drain first, then clear: a wakeup between the two finds the flag set and writes nothing, but its
            // task is already queued and runTasks runs after this. Clearing first let a wakeup write the eventfd
            // just before the read swallowed it, leaving the flag set with nothing pending: every later
            // wakeup (execute, stop) was then lost and the loop slept in epoll_wait for ever.
            kernel.eventfd_read(wakeFd);
            wakePending.set(false);
            return;
        }
        Handler h = slot < nextUnused && generations[slot] == (int) (token >>> 32) ? handlers[slot] : null;
        if (h == null) {
            stats.staleEvents++;
            return;
        }
        try {
            h.onEvent(events);
        } catch (RuntimeException e) {
            fail(h, e);
        }
    }

    /**
     * io_uring refused to watch the fd of {@code token} ({@code err}): a line on the log (at most one per
     * {@link #POLL_REFUSAL_LOG_NANOS}: a refusal that lasts fails a listener's retry ten times a second), and
     * its handler's {@link Handler#onFailure} (a pair ends, a listener keeps listening), as when epoll_ctl fails.
     */
    void pollRefused(long token, int fd, int err) {
        int slot = (int) token;
        Handler h = slot != WAKE_SLOT && slot < nextUnused && generations[slot] == (int) (token >>> 32) ? handlers[slot] : null;
        SyscallException e = new SyscallException("io_uring poll of fd " + fd, err);
        String line = pollRefusals.next("loop " + id + ": " + e.getMessage() + ": the kernel would not watch it (a connection "
                + "on it ends; a listener is watched again " + UringPoller.POLL_RETRY_NANOS / 1_000_000 + " ms later)", clock.getAsLong());
        if (line != null) errorLog.accept(line);
        if (h == null) return;
        try {
            h.onFailure(e);
        } catch (RuntimeException e2) {
            errorLog.accept("loop " + id + ": cleanup after a failure failed too: " + e2);
        }
    }

    private void fail(Handler h, RuntimeException e) {
        stats.handlerFailures++;
        errorLog.accept("loop " + id + ": handler failed, closing its connection: " + e);
        try {
            h.onFailure(e);
        } catch (RuntimeException e2) {
            errorLog.accept("loop " + id + ": cleanup after a failure failed too: " + e2);
        }
    }

    private void runTimers() {
        while (true) {
            Timer t = timers.peek();
            if (t == null || t.deadline - now > 0) return;
            timers.poll();
            stats.timersFired++;
            try {
                t.onTimer(now);
            } catch (RuntimeException e) {
                stats.handlerFailures++;
                errorLog.accept("loop " + id + ": timer failed: " + e);
            }
        }
    }

    private void runTasks() {
        Runnable r;
        while ((r = tasks.poll()) != null) {
            // A task may start long after the wakeup (the tasks before it ran long, or held the loop): the
            // deadlines it sets (a drain's, the connect timeouts of the clients it takes in) count from now,
            // not from a wakeup already past them, or they fire on the next turn before epoll reports
            // the connects that completed meanwhile.
            now = clock.getAsLong();
            try {
                r.run();
            } catch (RuntimeException e) {
                stats.handlerFailures++;
                errorLog.accept("loop " + id + ": task failed: " + e);
            }
        }
    }

    /** Closes the epoll fd and the wakeup eventfd (registered fds belong to their owners). */
    @Override
    public void close() {
        synchronized (wakeLock) {
            if (closed) return;
            closed = true;
            kernel.close(wakeFd);
        }
        poller.close();
    }
}
