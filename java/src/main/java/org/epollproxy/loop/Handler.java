package org.epollproxy.loop;

/** Receives the epoll events of one registered fd. Called on the loop thread only. */
public interface Handler {
    /** {@code events} is the ready mask (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, ...). */
    void onEvent(int events);

    /**
     * A {@link RuntimeException} escaped {@link #onEvent}: release whatever this handler holds. The
     * loop has logged it and goes on serving the other fds; one broken connection never stops the loop.
     */
    void onFailure(RuntimeException e);
}
