package org.epollproxy.forward;

/** A listening socket of one forward on one loop: a TCP or a UDP listener. */
public interface Listener {
    Forward forward();

    /** Reload: same listening address, new backends or rules; open connections keep what they have. */
    void setForward(Forward f);

    ForwardStats stats();

    /** Starts watching the socket; called once, on the loop's thread. */
    void start();

    /** Stops listening and closes the fd; open connections/sessions are not cut. */
    void close();

    /** Shutdown: stop listening and end what this listener alone owns (UDP sessions) now. */
    default void closeAll() {
        close();
    }

    /**
     * Drain, before {@link #closeAll}: take in the connections the kernel already completed and queued on
     * the socket (closing a listening socket resets every one of them); they are then drained like the others.
     */
    default void takeInQueued() {}

    /** A connection on this loop ended: a listener paused at --max-connections may accept again. */
    default void capacityFreed() {}

    /** Open connections or sessions this listener itself keeps (UDP sessions); TCP pairs are the loop's. */
    default int sessions() {
        return 0;
    }
}
