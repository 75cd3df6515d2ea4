package org.epollproxy.loop;

import java.util.Arrays;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.IoUring;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.SyscallException;

/**
 * The loop over io_uring ({@code --io-uring}): readiness through one-shot {@code IORING_OP_POLL_ADD}s, sends
 * through {@code IORING_OP_SEND}, and one {@code io_uring_enter} per iteration that hands the kernel
 * everything the last iteration queued and waits for the next completions. Where epoll costs a syscall per
 * recv, send, change of interest and wait, this costs the recvs (still plain syscalls, so a buffer is only
 * taken once bytes are there) and one enter per batch.
 *
 * <p><b>Level-triggered, as epoll here.</b> A one-shot poll reports the fd's state when it is armed (a socket
 * already readable completes at once), and it is armed again after every event while the slot's mask
 * wants it: the same events a level-triggered epoll gives, at the price of an SQE per event. Changes of
 * interest are only noted ({@link #interest}) and applied once per iteration, before the enter: a pair
 * that flips its mask twice in one iteration costs nothing.
 *
 * <p><b>user_data.</b> Two bits of kind, then for a poll the slot's arm number and the slot: every arm
 * (and every release) of a slot gets a new number, so a completion of a poll since removed, or of a slot
 * since given to another fd, is recognised and dropped. Sends carry their own handle and number
 * ({@link RingSends}).
 *
 * <p><b>Sends.</b> {@link #send} queues a send of a whole buffer with {@code MSG_WAITALL}: the kernel
 * finishes partial sends itself, arming its own poll when the peer is full. Its SQE is written only right
 * before the enter, like the polls: an SQE names its socket by fd number, which the kernel looks up when
 * it takes the SQE, and between a send and the enter the pair may close that fd and an accept get the same
 * number back, and the send would go to the new connection. A send cancelled before its SQE was written
 * is never written; its owner hears -ECANCELED after the next wait. The owner hears the result
 * in a later iteration and owns the buffer until then, even if its connection closed meanwhile:
 * closing only asks for a cancel ({@link #cancelSend}). The fd's socket stays open while a send holds it,
 * so a close takes effect once the send ended.
 */
final class UringPoller implements Poller {
    static final int SQ_ENTRIES = 1024;
    /** Room for a burst of completions: every armed poll may fire at once (overflow is kept by the kernel, not lost). */
    static final int CQ_ENTRIES = 8192;
    /** A slot whose poll the kernel refused is armed again no sooner than this: a refusal that lasts costs 10 enters a second, not a spin. */
    static final long POLL_RETRY_NANOS = 100_000_000L;

    private static final long KIND_POLL = 0;
    private static final long KIND_SEND = RingSends.KIND;
    /** Removes and cancels; they post a completion only when they fail (the target had completed), which is dropped. */
    private static final long KIND_OTHER = 2L << 62;
    private static final long KIND_MASK = 3L << 62;
    private static final int SEQ_MASK = (1 << 30) - 1;
    /** Enters the poller makes, at most, to hand over the SQEs an enter left queued; then the loop gives up (and dies). */
    private static final int HAND_OVER_TRIES = 1000;

    private final IoUring ring;
    private final LoopStats stats;

    // Per slot: the mask wanted, the mask of the poll armed now (0: none), the number of that arm, fd and token.
    private int[] want = new int[256];
    private int[] armed = new int[256];
    private int[] seq = new int[256];
    private int[] fds = new int[256];
    private long[] tokens = new long[256];
    private boolean[] dirty = new boolean[256];
    private int[] dirtyList = new int[256];
    private int dirtyCount;
    // Slots whose poll the kernel refused, armed again (if still wanted) once retryAt has passed.
    private int[] retry = new int[16];
    private int retryCount;
    private long retryAt;
    // Completions read while the kernel was made to take the rest of the SQEs, before any of them is handled.
    private long[] asideData = new long[64];
    private int[] asideRes = new int[64];
    private int asideCount;
    /** An enter failed (the loop dies of it): SQEs it did not take may name fds closed, and reused, since. */
    private boolean failed;

    private final RingSends sends;

    private UringPoller(IoUring ring, LoopStats stats) {
        this.ring = ring;
        this.stats = stats;
        this.sends = new RingSends(ring, stats, KIND_OTHER);
    }

    /**
     * A ring for the calling thread (which must be the loop's). Throws SyscallException if the kernel refuses,
     * or if its io_uring cannot skip the completions of successful removes and cancels
     * ({@code IORING_FEAT_CQE_SKIP}, Linux 5.17): before that the flag makes them fail, and a poll that is
     * never removed holds its socket open after the proxy closed it.
     */
    static UringPoller open(Kernel kernel, LoopStats stats) {
        IoUring ring = IoUring.open(kernel, SQ_ENTRIES, CQ_ENTRIES);
        if ((ring.features() & IoUring.IORING_FEAT_CQE_SKIP) == 0) {
            ring.close();
            throw new SyscallException("io_uring_setup: this kernel's io_uring lacks IORING_FEAT_CQE_SKIP (Linux 5.17 or later)",
                    -Errno.ENOSYS);
        }
        return new UringPoller(ring, stats);
    }

    @Override
    public int interest(int slot, int fd, long token, int old, int mask) {
        ensure(slot);
        want[slot] = mask;
        fds[slot] = fd;
        tokens[slot] = token;
        markDirty(slot);
        return 0;
    }

    @Override
    public void release(int slot, int fd, int mask, boolean delete) {
        ensure(slot);
        if (armed[slot] != 0 && !failed) { // failed: an SQE written now could hand over the dead loop's (close)
            ring.pollRemove(pollData(slot, seq[slot]), KIND_OTHER, IoUring.IOSQE_CQE_SKIP_SUCCESS);
            armed[slot] = 0;
        }
        seq[slot] = (seq[slot] + 1) & SEQ_MASK; // a completion of the old poll already posted is stale now
        want[slot] = 0;
        fds[slot] = -1;
        // delete: the remove above is queued and goes in with the next enter, before the loop waits again;
        // until then the socket can only post a completion that the new arm number makes stale.
    }

    private void markDirty(int slot) {
        if (dirty[slot]) return;
        dirty[slot] = true;
        dirtyList[dirtyCount++] = slot;
    }

    /** Brings every changed slot's poll in line with its mask: remove the old one, arm the new one. */
    private void applyInterest() {
        for (int i = 0; i < dirtyCount; i++) {
            int slot = dirtyList[i];
            dirty[slot] = false;
            int w = want[slot];
            if (armed[slot] == w) continue;
            if (armed[slot] != 0) ring.pollRemove(pollData(slot, seq[slot]), KIND_OTHER, IoUring.IOSQE_CQE_SKIP_SUCCESS);
            seq[slot] = (seq[slot] + 1) & SEQ_MASK;
            armed[slot] = w;
            if (w != 0) {
                ring.pollAdd(fds[slot], w, pollData(slot, seq[slot]));
                stats.ringPolls++;
            }
        }
        dirtyCount = 0;
    }

    @Override
    public int poll(int timeoutMs, EventLoop loop) {
        try {
            return submitAndDispatch(timeoutMs, loop);
        } catch (SyscallException e) { // handlers' exceptions are caught where they run: this one is the ring's
            failed = true;
            sends.ringFailed();
            throw e;
        }
    }

    private int submitAndDispatch(int timeoutMs, EventLoop loop) {
        sends.writeQueued();
        long waitNanos = timeoutMs < 0 ? -1 : timeoutMs * 1_000_000L;
        if (retryCount > 0) waitNanos = retryRefused(waitNanos);
        applyInterest();
        int rc = ring.submitAndWait(sends.endsDue() ? 0 : 1, waitNanos);
        loop.woke();
        sends.deliverCancelledUnwritten();
        if (rc < 0 && rc != -Errno.EBUSY && rc != -Errno.EAGAIN) {
            // EINTR and ETIME come back as 0; EBUSY/EAGAIN: completions to reap first (overflow), done below.
            throw new SyscallException("io_uring_enter", rc);
        }
        if (ring.queued() > 0) handOverTheRest(rc);
        int events = 0;
        for (int i = 0; i < asideCount; i++) {
            if (completed(asideData[i], asideRes[i], loop)) events++;
        }
        asideCount = 0;
        int n = ring.ready();
        for (int i = 0; i < n; i++) {
            if (completed(ring.userData(i), ring.res(i), loop)) events++;
        }
        ring.advance(n);
        return events;
    }

    /** One completion: a poll's event (true if dispatched), a send's end, or a failed remove or cancel (dropped). */
    private boolean completed(long data, int res, EventLoop loop) {
        long kind = data & KIND_MASK;
        if (kind == KIND_POLL) return pollDone(data, res, loop);
        if (kind == KIND_SEND) sends.completed(data, res);
        return false;
    }

    /**
     * The enter took fewer SQEs than were queued: -EAGAIN (no memory for requests), or, on kernels without
     * IORING_SETUP_SUBMIT_ALL, -EBUSY (completions overflowed: reap first) or a request that failed and stopped
     * the batch. Every SQE is handed over before any handler runs: a send's SQE names its socket by fd number,
     * and a handler may close that fd and an accept get the number back before the next enter (the class
     * comment). The completions are set aside meanwhile, which makes room for those the kernel holds back.
     */
    private void handOverTheRest(int rc) {
        for (int tries = 0; ring.queued() > 0; tries++) {
            if (tries == HAND_OVER_TRIES) {
                throw new SyscallException("io_uring_enter (" + ring.queued() + " requests the kernel would not take)",
                        rc < 0 ? rc : -Errno.EAGAIN);
            }
            int n = ring.ready();
            if (asideCount + n > asideData.length) {
                asideData = Arrays.copyOf(asideData, Math.max(asideCount + n, asideData.length * 2));
                asideRes = Arrays.copyOf(asideRes, asideData.length);
            }
            for (int i = 0; i < n; i++) {
                asideData[asideCount] = ring.userData(i);
                asideRes[asideCount++] = ring.res(i);
            }
            ring.advance(n);
            rc = ring.submit();
            if (rc < 0 && rc != -Errno.EBUSY && rc != -Errno.EAGAIN) throw new SyscallException("io_uring_enter", rc);
        }
    }

    /** One poll's completion: the slot's current arm gives its event (and is armed again if still wanted). */
    private boolean pollDone(long data, int res, EventLoop loop) {
        int slot = (int) data;
        int number = (int) (data >>> 32) & SEQ_MASK;
        if (slot >= armed.length || armed[slot] == 0 || seq[slot] != number) {
            if (res != -Errno.ECANCELED) stats.staleEvents++;
            return false;
        }
        armed[slot] = 0; // one-shot: it fired
        if (res < 0) {
            refused(slot, res, loop);
            return false;
        }
        markDirty(slot); // armed again before the next wait if the mask still wants it
        loop.dispatch(tokens[slot], res);
        return true;
    }

    /**
     * The kernel refused to arm the slot's poll (-EBADF, -ENOMEM, ...): the poll completed at once, without
     * looking at the socket. Armed again at once it would fail again at once, and the loop would never sleep;
     * so it is the handler's failure (as a failed epoll_ctl fails setInterest), and if the slot is still
     * wanted after that, it is armed again only once {@link #POLL_RETRY_NANOS} passed.
     */
    private void refused(int slot, int res, EventLoop loop) {
        stats.ringPollFailures++;
        if (retryCount == 0) retryAt = System.nanoTime() + POLL_RETRY_NANOS;
        if (retryCount == retry.length) retry = Arrays.copyOf(retry, retryCount * 2);
        retry[retryCount++] = slot;
        loop.pollRefused(tokens[slot], fds[slot], res);
    }

    /** Marks the refused slots for arming once their time came; returns the wait, cut short to that time. */
    private long retryRefused(long waitNanos) {
        long left = retryAt - System.nanoTime();
        if (left > 0) return waitNanos < 0 ? left : Math.min(waitNanos, left);
        for (int i = 0; i < retryCount; i++) markDirty(retry[i]); // a slot released since has want 0: nothing armed
        retryCount = 0;
        return waitNanos;
    }

    private static long pollData(int slot, int number) {
        return KIND_POLL | ((long) number << 32) | (slot & 0xffffffffL);
    }

    /** Queues a send (see the class comment); returns its handle. */
    int send(int fd, long buf, int len, SendCompletion owner) {
        return sends.add(fd, buf, len, owner);
    }

    void cancelSend(int handle) {
        sends.cancel(handle);
    }

    private void ensure(int slot) {
        if (slot < want.length) return;
        int n = Math.max(slot + 1, want.length * 2);
        want = Arrays.copyOf(want, n);
        armed = Arrays.copyOf(armed, n);
        seq = Arrays.copyOf(seq, n);
        fds = Arrays.copyOf(fds, n);
        tokens = Arrays.copyOf(tokens, n);
        dirty = Arrays.copyOf(dirty, n);
        dirtyList = Arrays.copyOf(dirtyList, n);
    }

    @Override
    public String name() {
        return "io_uring";
    }

    /**
     * Cancels the sends still in flight and waits (up to 2 s) for their completions, so no owner frees a
     * buffer the kernel may still read; then unmaps the rings and closes the ring fd. After a failed enter
     * nothing more is handed over (its SQEs name fds the loop's connections closed since, which other loops
     * may have got back): only the sends the kernel never saw end; the others keep their buffers for good.
     */
    @Override
    public void close() {
        sends.cancelAll();
        if (failed) {
            ring.close();
            return;
        }
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (sends.inFlight() > 0 && System.nanoTime() - deadline < 0) {
            if (ring.submitAndWait(1, 100_000_000L) < 0) break; // a ring that fails (the loop died of it): leave the buffers be
            int n = ring.ready();
            for (int i = 0; i < n; i++) {
                long data = ring.userData(i);
                if ((data & KIND_MASK) == KIND_SEND) sends.completed(data, ring.res(i));
            }
            ring.advance(n);
        }
        ring.close();
    }
}
