package org.epollproxy.loop;

/**
 * The owner of a send handed to the kernel with {@link EventLoop#sendAsync}: it holds the bytes' buffer
 * until told how the send ended, whatever happened to its connection meanwhile.
 */
public interface SendCompletion {

    /** The send ended: bytes sent (all of them unless the connection failed), or -errno (-ECANCELED: {@link EventLoop#cancelSend}). */
    void onSent(int result);

    /** {@link #onSent} threw: the loop logged it; end the connection. */
    void onFailure(RuntimeException e);
}
