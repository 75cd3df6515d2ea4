package org.epollproxy.forward;

/** A listening socket of one forward on one loop: {@link TcpListener} or {@link UdpListener}. */
interface Listener {
    Forward forward();

    /** Reload: same listening address, new backends or rules; open connections keep what they have. */
    void setForward(Forward f);

    ForwardStats stats();

    /** Stops listening and closes the fd; open connections/sessions are not cut. */
    void close();
}
