package org.epollproxy.forward;

/**
 * One open connection as the live view shows it, copied on its loop's thread.
 *
 * @param forward the listening address of its forward
 * @param backend the backend in use (or being tried), "-" before the first connect
 * @param local the proxy's own address on its socket toward the backend (getsockname), as the backend's
 *     log shows the connection's source; "-" while there is no such socket
 * @param state {@code connecting}, {@code open}, {@code client-sent-fin} or {@code backend-sent-fin}; {@code udp}
 *     for a UDP session (its client interest is the listening socket's, its path {@code datagram})
 * @param idleNanos time since the last byte moved either way (since the start if none has)
 * @param bufferedUp bytes read from the client that the backend has not taken yet (buffer or pipe)
 * @param clientInterest the epoll mask registered for the client's socket (0: not in the epoll set)
 * @param path {@code splice}, {@code copy}, or {@code mixed} when one direction fell back to copying
 * @param routed with routes: the route chosen and the client's SNI/ALPN; null without routes (or before the choice)
 * @param tls a TLS client's version, suite and ALPN; null without TLS
 * @param tlsSubject the subject of the TLS client's certificate; null if it sent none
 */
public record ConnectionInfo(int loop, String forward, String client, String backend, String local, String state,
        long ageNanos, long idleNanos, long bytesUp, long bytesDown, int bufferedUp, int bufferedDown, int clientInterest, int backendInterest,
        String path, Routed routed, String tls, String tlsSubject) {

    /** A connection without TLS. */
    public ConnectionInfo(int loop, String forward, String client, String backend, String local, String state,
            long ageNanos, long idleNanos, long bytesUp, long bytesDown, int bufferedUp, int bufferedDown, int clientInterest,
            int backendInterest, String path, Routed routed) {
        this(loop, forward, client, backend, local, state, ageNanos, idleNanos, bytesUp, bytesDown, bufferedUp, bufferedDown,
                clientInterest, backendInterest, path, routed, null, null);
    }

    /** A connection no route chose (a UDP session, a client still in its PROXY header). */
    public ConnectionInfo(int loop, String forward, String client, String backend, String local, String state,
            long ageNanos, long idleNanos, long bytesUp, long bytesDown, int bufferedUp, int bufferedDown, int clientInterest,
            int backendInterest, String path) {
        this(loop, forward, client, backend, local, state, ageNanos, idleNanos, bytesUp, bytesDown, bufferedUp, bufferedDown,
                clientInterest, backendInterest, path, null);
    }
}
