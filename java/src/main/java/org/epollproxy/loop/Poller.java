package org.epollproxy.loop;

/**
 * How an {@link EventLoop} learns that its fds are ready: the loop keeps the slots, handlers, timers and
 * tasks, a poller the kernel's side of it (redis' ae.c over ae_epoll.c). Two exist: {@link EpollPoller}
 * (level-triggered epoll, the default) and {@link UringPoller} (one-shot polls and sends through io_uring,
 * {@code --io-uring}). Both deliver the same {@code (token, EPOLLIN|EPOLLOUT|EPOLLERR|EPOLLHUP)} events to
 * {@link EventLoop#dispatch}, so no handler knows which one runs. Loop thread only.
 */
interface Poller {

    /**
     * The fd of {@code slot} wants {@code mask} instead of {@code old} (they differ; either may be 0).
     * Returns 0 or -errno; on -errno the loop keeps the old mask.
     */
    int interest(int slot, int fd, long token, int old, int mask);

    /**
     * {@code slot} is being freed, {@code mask} (maybe 0) its interest now: its fd closes right after, or
     * (with {@code delete}) stays open elsewhere and must stop producing events here.
     */
    void release(int slot, int fd, int mask, boolean delete);

    /**
     * Waits up to {@code timeoutMs} (-1: until something happens, 0: not at all), then calls
     * {@link EventLoop#woke} once and {@link EventLoop#dispatch} for every ready fd. Returns the number of
     * events dispatched.
     */
    int poll(int timeoutMs, EventLoop loop);

    /** "epoll" or "io_uring", for logs and metrics. */
    String name();

    void close();
}
