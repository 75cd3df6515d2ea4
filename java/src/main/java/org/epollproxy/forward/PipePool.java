package org.epollproxy.forward;

import java.util.Arrays;
import org.epollproxy.shim.Kernel;

/**
 * The splice path's pipes for one event loop ({@code --splice}; single-threaded, no locks), handed out
 * only while bytes are in flight, as {@link BufferPool} hands out buffers: a direction takes a pipe to
 * splice into and gives it back the moment it is empty. So an idle connection holds no pipe (no fds, no
 * pipe pages), and a new connection does not pay pipe2, F_SETPIPE_SZ and two closes per direction.
 * Up to {@link #MAX_IDLE} empty pipes stay open for reuse; beyond that they are closed. Like the buffers,
 * the idle pipes a burst left are closed once they stayed idle a whole trim period ({@link #trimIdle}),
 * down to {@link #FLOOR}, so their fds go back to the process for sockets.
 *
 * <p>A pipe that may still hold bytes (its pair closed mid-transfer) is never given back: it is
 * {@link #discard}ed, closed, so no byte of one connection can reach another.
 */
public final class PipePool {
    /**
     * Empty pipes kept open per loop: 128 fds at most. Enough for 64 directions to start splicing at once
     * without pipe2 (haproxy keeps up to maxconn/4 pipes in all); bounded, so a burst does not pin fds.
     */
    public static final int MAX_IDLE = 64;
    /** Idle pipes {@link #trimIdle} keeps whatever happened: two connections start splicing both ways without pipe2. */
    public static final int FLOOR = 4;

    /** {@code --pipe-size}: the capacity asked for each new pipe (F_SETPIPE_SZ), 0 for the kernel's default. */
    private final int pipeSize;
    /** Idle pipes as pipe2 returns them: read end << 32 | write end. */
    private long[] idle = new long[8];
    private int idleCount;
    private int inUse;
    /** The fewest idle pipes since the last {@link #trimIdle}: the ones above it were not needed. */
    private int lowIdle;

    public PipePool(int pipeSize) {
        this.pipeSize = pipeSize;
    }

    /** An empty pipe (read end << 32 | write end, as pipe2 returns it): an idle one, else a new one; or pipe2's -errno. */
    public long take(Kernel k) {
        if (idleCount > 0) {
            inUse++;
            long fds = idle[--idleCount];
            if (idleCount < lowIdle) lowIdle = idleCount;
            return fds;
        }
        lowIdle = 0;
        long fds = k.pipe2();
        if (fds < 0) return fds;
        // Refused (past the user's pipe pages, or a size start-up did not check): the pipe keeps the
        // kernel's default capacity and works the same. A fill never exceeds the buffer size either way.
        if (pipeSize > 0) k.set_pipe_size(writeEnd(fds), pipeSize);
        inUse++;
        return fds;
    }

    /** Back from a direction, empty: kept for the next one if fewer than the maximum are idle, else closed. */
    public void give(Kernel k, long fds) {
        inUse--;
        if (idleCount == MAX_IDLE) {
            closePipe(k, fds);
            return;
        }
        if (idleCount == idle.length) idle = Arrays.copyOf(idle, idle.length * 2);
        idle[idleCount++] = fds;
    }

    /** Back from a direction that may have left bytes in it: closed. */
    public void discard(Kernel k, long fds) {
        inUse--;
        closePipe(k, fds);
    }

    /**
     * Called once per quiet period (the loop's trim timer): closes the idle pipes that stayed idle the whole
     * period (the fewest idle seen since the last call), down to {@link #FLOOR}. Returns how many it closed.
     */
    public int trimIdle(Kernel k) {
        int surplus = Math.min(lowIdle, idleCount) - FLOOR;
        for (int i = 0; i < surplus; i++) closePipe(k, idle[--idleCount]);
        lowIdle = idleCount;
        return Math.max(surplus, 0);
    }

    /** Idle pipes above the floor: a {@link #trimIdle} may have something to close. */
    public boolean aboveFloor() {
        return idleCount > FLOOR;
    }

    /** Pipes held by directions now. */
    public int inUse() {
        return inUse;
    }

    /** Empty pipes kept open for reuse. */
    public int idle() {
        return idleCount;
    }

    /** The read end of idle pipe {@code i} ({@code 0 <= i < idle()}): for tests that check it came back empty. */
    int idleReadEnd(int i) {
        return readEnd(idle[i]);
    }

    /** The loop stops: closes the idle pipes (the directions gave theirs back or discarded them first). */
    public void close(Kernel k) {
        while (idleCount > 0) closePipe(k, idle[--idleCount]);
    }

    public static int readEnd(long fds) {
        return (int) (fds >>> 32);
    }

    public static int writeEnd(long fds) {
        return (int) fds;
    }

    private static void closePipe(Kernel k, long fds) {
        k.close(readEnd(fds));
        k.close(writeEnd(fds));
    }
}
