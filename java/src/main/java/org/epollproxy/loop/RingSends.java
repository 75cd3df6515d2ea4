package org.epollproxy.loop;

import java.util.Arrays;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.IoUring;
import org.epollproxy.shim.Net;

/**
 * The sends a loop on io_uring hands to the kernel ({@link UringPoller}): per handle its owner, what it
 * sends, whether its SQE is written yet and whether it was cancelled. A handle is reused once its send
 * ended; the number it carries in its user_data tells a completion of an earlier use apart. Loop thread only.
 *
 * <p>An SQE is written only right before the enter ({@link #writeQueued}): it names its socket by fd
 * number, and between a send and the enter the pair may close that fd and an accept get the number back
 * (UringPoller's class comment). A send cancelled before that is never written; its owner hears -ECANCELED
 * after the next wait ({@link #deliverCancelledUnwritten}).
 */
final class RingSends {
    /** The kind bits of a send's user_data (UringPoller's layout): then its number and its handle. */
    static final long KIND = 1L << 62;
    private static final int NUMBER_MASK = (1 << 30) - 1;

    private final IoUring ring;
    private final LoopStats stats;
    /** The user_data of the cancels: their completion comes only when they fail, and the poller drops it. */
    private final long cancelData;
    /** The ring failed (the loop dies of it): no SQE is written any more, see {@link #cancel}. */
    private boolean ringFailed;

    // Per handle: owner (null: free), number, what to send, written as an SQE, cancelled.
    private SendCompletion[] owners = new SendCompletion[64];
    private int[] numbers = new int[64];
    private int[] fds = new int[64];
    private long[] bufs = new long[64];
    private int[] lens = new int[64];
    private boolean[] written = new boolean[64];
    private boolean[] cancelled = new boolean[64];
    // Handles queued since the last enter; those cancelled before their SQE was written; free handles.
    private int[] unwritten = new int[64];
    private int unwrittenCount;
    private int[] cancelledUnwritten = new int[64];
    private int cancelledCount;
    private int[] free = new int[64];
    private int freeCount;
    private int nextHandle;
    private int inFlight;

    RingSends(IoUring ring, LoopStats stats, long cancelData) {
        this.ring = ring;
        this.stats = stats;
        this.cancelData = cancelData;
    }

    /** Queues a send of {@code len} bytes at {@code buf} to {@code fd}; returns its handle. */
    int add(int fd, long buf, int len, SendCompletion owner) {
        int h;
        if (freeCount > 0) {
            h = free[--freeCount];
        } else {
            h = nextHandle++;
            if (h == owners.length) grow(h * 2);
        }
        owners[h] = owner;
        fds[h] = fd;
        bufs[h] = buf;
        lens[h] = len;
        written[h] = false;
        cancelled[h] = false;
        unwritten[unwrittenCount++] = h;
        inFlight++;
        stats.ringSends++;
        return h;
    }

    /** The SQEs of the sends queued since the last enter, right before it. */
    void writeQueued() {
        for (int i = 0; i < unwrittenCount; i++) {
            int h = unwritten[i];
            if (cancelled[h]) continue; // cancelled before the kernel saw it: never written
            ring.send(fds[h], bufs[h], lens[h], Net.MSG_NOSIGNAL | Net.MSG_WAITALL, userData(h), 0);
            written[h] = true;
        }
        unwrittenCount = 0;
    }

    /**
     * Asks the kernel to cancel the send (its owner hears how it ended, and keeps its buffer until then); one
     * the kernel never saw ends after the next wait. After the ring failed nothing is written: one SQE more
     * in a full ring hands it over, with sends that name fds closed and maybe reused since; the kernel's
     * sends then keep their buffers for good.
     */
    void cancel(int h) {
        if (owners[h] == null || cancelled[h]) return;
        cancelled[h] = true;
        stats.ringSendsCancelled++;
        if (!written[h]) {
            cancelledUnwritten[cancelledCount++] = h; // writeQueued skips it: the kernel never sees it
        } else if (!ringFailed) {
            ring.cancel(userData(h), cancelData, IoUring.IOSQE_CQE_SKIP_SUCCESS);
        }
    }

    /** Cancelled before the kernel saw them: their ends are due, and the next wait must not block. */
    boolean endsDue() {
        return cancelledCount > 0;
    }

    /** Tells the owners of the sends cancelled before their SQE was written that they ended (-ECANCELED). */
    void deliverCancelledUnwritten() {
        int n = cancelledCount;
        cancelledCount = 0;
        for (int i = 0; i < n; i++) {
            int h = cancelledUnwritten[i];
            ended(h, numbers[h], -Errno.ECANCELED);
        }
    }

    /** A send's completion ({@code data} of kind {@link #KIND}): its owner hears the result. */
    void completed(long data, int res) {
        ended((int) data, (int) (data >>> 32) & NUMBER_MASK, res);
    }

    int inFlight() {
        return inFlight;
    }

    /** The ring failed: from now on nothing more is written to it. */
    void ringFailed() {
        ringFailed = true;
    }

    /** Cancels every send; after a failed ring, only those the kernel never saw (the others cannot be). */
    void cancelAll() {
        for (int h = 0; h < nextHandle; h++) {
            if (!ringFailed || !written[h]) cancel(h);
        }
        deliverCancelledUnwritten();
    }

    private void ended(int h, int number, int res) {
        if (h >= nextHandle || owners[h] == null || numbers[h] != number) return; // cannot happen: one completion per send
        SendCompletion owner = owners[h];
        owners[h] = null;
        numbers[h] = (numbers[h] + 1) & NUMBER_MASK;
        free[freeCount++] = h;
        inFlight--;
        if (res < 0 && !cancelled[h]) stats.ringSendErrors++;
        try {
            owner.onSent(res);
        } catch (RuntimeException e) {
            stats.handlerFailures++;
            owner.onFailure(e);
        }
    }

    private long userData(int h) {
        return KIND | ((long) numbers[h] << 32) | h;
    }

    private void grow(int n) {
        owners = Arrays.copyOf(owners, n);
        numbers = Arrays.copyOf(numbers, n);
        free = Arrays.copyOf(free, n);
        fds = Arrays.copyOf(fds, n);
        bufs = Arrays.copyOf(bufs, n);
        lens = Arrays.copyOf(lens, n);
        written = Arrays.copyOf(written, n);
        cancelled = Arrays.copyOf(cancelled, n);
        unwritten = Arrays.copyOf(unwritten, n);
        cancelledUnwritten = Arrays.copyOf(cancelledUnwritten, n);
    }
}
