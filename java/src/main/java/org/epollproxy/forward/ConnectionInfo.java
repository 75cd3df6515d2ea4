package org.epollproxy.forward;

/**
 * One open connection as the live view shows it, copied on its loop's thread.
 *
 * @param forward the listening address of its forward
 * @param backend the backend in use (or being tried), "-" before the first connect
 * @param state {@code connecting}, {@code open}, {@code client-sent-fin} or {@code backend-sent-fin}; {@code udp}
 *     for a UDP session (its client interest is the listening socket's, its path {@code datagram})
 * @param bufferedUp bytes read from the client that the backend has not taken yet (buffer or pipe)
 * @param clientInterest the epoll mask registered for the client's socket (0: not in the epoll set)
 * @param path {@code splice}, {@code copy}, or {@code mixed} when one direction fell back to copying
 * @param routed with routes: the route chosen and the client's SNI/ALPN; null without routes (or before the choice)
 * @param tls a TLS client's version, suite and ALPN; null without TLS
 * @param tlsSubject the subject of the TLS client's certificate; null if it sent none
 */
public record ConnectionInfo(int loop, String forward, String client, String backend, String state, long ageNanos,
        long bytesUp, long bytesDown, int bufferedUp, int bufferedDown, int clientInterest, int backendInterest,
        String path, Routed routed, String tls, String tlsSubject) {

    public ConnectionInfo(int loop, String forward, String client, String backend, String state, long ageNanos,
            long bytesUp, long bytesDown, int bufferedUp, int bufferedDown, int clientInterest, int backendInterest,
            String path, Routed routed) {
        this(loop, forward, client, backend, state, ageNanos, bytesUp, bytesDown, bufferedUp, bufferedDown, clientInterest,
                backendInterest, path, routed, null, null);
    }

    public ConnectionInfo(int loop, String forward, String client, String backend, String state, long ageNanos,
            long bytesUp, long bytesDown, int bufferedUp, int bufferedDown, int clientInterest, int backendInterest,
            String path) {
        this(loop, forward, client, backend, state, ageNanos, bytesUp, bytesDown, bufferedUp, bufferedDown, clientInterest,
                backendInterest, path, null);
    }
}
