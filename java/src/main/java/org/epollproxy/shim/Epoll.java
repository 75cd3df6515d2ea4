package org.epollproxy.shim;

/**
 * One epoll instance: the constants of epoll(7) and a minimal API over {@link Kernel}: add, modify and
 * delete interest, wait, then read each ready event's token and mask from a reused native array.
 *
 * <pre>{@code
 * Kernel k = Shim.load();
 * try (Epoll ep = Epoll.open(k, 16)) {
 *     ep.add(fd, Epoll.EPOLLIN, 42);          // token 42 comes back with each event for fd
 *     int n = ep.wait(1000);                   // up to 1 s; 0 = timed out
 *     for (int i = 0; i < n; i++)
 *         System.out.println(ep.token(i) + " " + Epoll.describe(ep.events(i)));
 * }
 * }</pre>
 *
 * <p>Nothing here allocates per call: the event array is native memory, read with absolute gets.
 * Return values follow the shim: {@code >= 0} or {@code -errno}.
 */
public final class Epoll implements AutoCloseable {
    public static final int EPOLLIN = 0x001;
    public static final int EPOLLPRI = 0x002;
    public static final int EPOLLOUT = 0x004;
    public static final int EPOLLERR = 0x008;
    public static final int EPOLLHUP = 0x010;
    public static final int EPOLLRDHUP = 0x2000;
    public static final int EPOLLEXCLUSIVE = 1 << 28;
    public static final int EPOLLONESHOT = 1 << 30;
    public static final int EPOLLET = 1 << 31;

    public static final int EPOLL_CTL_ADD = 1;
    public static final int EPOLL_CTL_DEL = 2;
    public static final int EPOLL_CTL_MOD = 3;

    /** Bytes per flattened event written by the shim: int64 token, int32 events, int32 padding. */
    public static final int EVENT_SIZE = 16;
    /** The shim copies through a stack array of this many events. */
    public static final int MAX_EVENTS = 1024;

    private final Kernel kernel;
    private final int epfd;
    private NativeBuffer events;
    private int capacity;

    private Epoll(Kernel kernel, int epfd, int capacity) {
        this.kernel = kernel;
        this.epfd = epfd;
        this.capacity = capacity;
        this.events = NativeBuffer.allocate(capacity * EVENT_SIZE);
    }

    /** Creates an epoll fd (close-on-exec) with room for {@code maxEvents} per wait (grown up to 1024). */
    public static Epoll open(Kernel kernel, int maxEvents) {
        int fd = SyscallException.check(kernel.epoll_create(), "epoll_create1");
        return new Epoll(kernel, fd, Math.max(1, Math.min(maxEvents, MAX_EVENTS)));
    }

    public int fd() {
        return epfd;
    }

    public int add(int fd, int events, long token) {
        return kernel.epoll_ctl(epfd, EPOLL_CTL_ADD, fd, events, token);
    }

    public int modify(int fd, int events, long token) {
        return kernel.epoll_ctl(epfd, EPOLL_CTL_MOD, fd, events, token);
    }

    public int delete(int fd) {
        return kernel.epoll_ctl(epfd, EPOLL_CTL_DEL, fd, 0, 0);
    }

    /**
     * Waits up to {@code timeoutMs} (-1 = forever, 0 = poll) and returns the number of ready events
     * (0 on timeout or EINTR) or -errno, at most {@link #capacity()}. It never resizes the array; after
     * reading the events, {@link #growIfFull} gives the next wait twice the room if this one filled it.
     */
    public int wait(int timeoutMs) {
        return kernel.epoll_wait(epfd, events.address(), capacity, timeoutMs);
    }

    /** The token given to add/modify for the i-th ready event of the last wait. */
    public long token(int i) {
        return events.buffer().getLong(i * EVENT_SIZE);
    }

    /** The i-th ready event's mask (EPOLLIN, EPOLLOUT, EPOLLERR, ...). */
    public int events(int i) {
        return events.buffer().getInt(i * EVENT_SIZE + 8);
    }

    /**
     * Doubles the event array (up to {@link #MAX_EVENTS}) after a wait that filled it, the way Netty's
     * EpollEventArray grows; call only between waits, after reading the events.
     */
    public void growIfFull(int lastCount) {
        if (lastCount == capacity && capacity < MAX_EVENTS) {
            capacity = Math.min(capacity * 2, MAX_EVENTS);
            events = NativeBuffer.allocate(capacity * EVENT_SIZE);
        }
    }

    public int capacity() {
        return capacity;
    }

    @Override
    public void close() {
        kernel.close(epfd);
    }

    /** "IN|OUT|RDHUP" for a mask; "0" for none. For traces and tests, not the hot path. */
    public static String describe(int events) {
        if (events == 0) return "0";
        StringBuilder sb = new StringBuilder();
        int rest = events;
        rest = flag(sb, events, rest, EPOLLIN, "IN");
        rest = flag(sb, events, rest, EPOLLPRI, "PRI");
        rest = flag(sb, events, rest, EPOLLOUT, "OUT");
        rest = flag(sb, events, rest, EPOLLERR, "ERR");
        rest = flag(sb, events, rest, EPOLLHUP, "HUP");
        rest = flag(sb, events, rest, EPOLLRDHUP, "RDHUP");
        rest = flag(sb, events, rest, EPOLLEXCLUSIVE, "EXCLUSIVE");
        rest = flag(sb, events, rest, EPOLLONESHOT, "ONESHOT");
        rest = flag(sb, events, rest, EPOLLET, "ET");
        if (rest != 0) {
            if (sb.length() > 0) sb.append('|');
            sb.append("0x").append(Integer.toHexString(rest));
        }
        return sb.toString();
    }

    private static int flag(StringBuilder sb, int events, int rest, int bit, String name) {
        if ((events & bit) == 0) return rest;
        if (sb.length() > 0) sb.append('|');
        sb.append(name);
        return rest & ~bit;
    }

    /** Every constant name declared here, for the test that checks them against the shim. */
    public static String[] names() {
        return new String[] {"EPOLLIN", "EPOLLPRI", "EPOLLOUT", "EPOLLERR", "EPOLLHUP", "EPOLLRDHUP",
            "EPOLLEXCLUSIVE", "EPOLLONESHOT", "EPOLLET", "EPOLL_CTL_ADD", "EPOLL_CTL_DEL", "EPOLL_CTL_MOD"};
    }
}
