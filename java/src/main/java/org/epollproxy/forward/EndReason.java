package org.epollproxy.forward;

/** How a connection ended, as its log line says it ({@code end=client-closed}). */
public enum EndReason {
    /** The client sent FIN first; both directions then finished cleanly. */
    CLIENT_CLOSED("client-closed"),
    /** The backend sent FIN first; both directions then finished cleanly. */
    BACKEND_CLOSED("backend-closed"),
    /** Every backend refused the connection (ECONNREFUSED); UDP: an ICMP port unreachable came back. */
    BACKEND_REFUSED("backend-refused"),
    /** The backend connect failed otherwise (EHOSTUNREACH, ENETUNREACH, ...). */
    BACKEND_UNREACHABLE("backend-unreachable"),
    /** Every backend of the forward is marked down (failed connects or checks): closed at once, none tried. */
    NO_BACKEND("no-backend"),
    /** No backend answered within --connect-timeout. */
    CONNECT_TIMEOUT("connect-timeout"),
    /** The client reset the connection (or a send to it failed); the backend was aborted with RST. */
    CLIENT_RESET("client-reset"),
    /** The backend reset the connection (or a send to it failed); the client was aborted with RST. */
    BACKEND_RESET("backend-reset"),
    /** No byte moved for --idle-timeout seconds (UDP: the session's timeout). */
    IDLE_TIMEOUT("idle-timeout"),
    /** Half-closed for longer than --fin-timeout seconds. */
    FIN_TIMEOUT("fin-timeout"),
    /** The proxy is shutting down (SIGTERM/SIGINT). */
    SHUTDOWN("shutdown"),
    /** The client's address matched a deny pattern. */
    DENIED("denied"),
    /** Allow patterns exist and the client's address matched none of them. */
    NOT_ALLOWED("not-allowed"),
    /** With accept-proxy: the client's PROXY protocol header was malformed, truncated, too long or too late. */
    BAD_PROXY_HEADER("bad-proxy-header"),
    /** With accept-proxy: the connection came from an address outside --accept-proxy-from; closed unread. */
    UNTRUSTED_PROXY("untrusted-proxy"),
    /** The client's address was over --max-connections-per-client or --client-rate: accepted and closed. */
    CLIENT_LIMIT("client-limit"),
    /** With routes: the client's first bytes matched no route and the listener has no default route. */
    NO_ROUTE("no-route"),
    /** With routes: no route could be chosen within --preread-timeout (a slow or silent client). */
    PREREAD_TIMEOUT("preread-timeout"),
    /** With routes: no route could be chosen within --preread-max bytes (a hello announcing more counts too). */
    PREREAD_TOO_LONG("preread-too-long"),
    /** With routes: the client started a TLS ClientHello that is malformed (a length that lies...) or cut short. */
    BAD_CLIENT_HELLO("bad-client-hello"),
    /**
     * On a TLS listener: the handshake failed (not TLS at all, no common version or suite, no valid client
     * certificate, the client gave up or stalled past --tls-handshake-timeout); the why field says which.
     */
    TLS_HANDSHAKE("tls-handshake"),
    /** With --backend-tls: the TLS handshake with the backend failed (its certificate, its name...); why says what. */
    BACKEND_TLS("backend-tls"),
    /** On a TLS connection: the client (or a TLS backend) sent a record the engine refused (bad MAC, an alert...); why says what. */
    TLS_ERROR("tls-error"),
    /** UDP: the session was the oldest when the session cap was reached. */
    EVICTED("evicted"),
    /** The operator disabled the backend with {@code ctl disable --reset}: both sides reset. */
    BACKEND_DISABLED("backend-disabled"),
    /** The proxy could not set the connection up (socket: EMFILE, ...), or a bug; see the errno. */
    ERROR("error");

    private final String text;

    EndReason(String text) {
        this.text = text;
    }

    public String text() {
        return text;
    }

    @Override
    public String toString() {
        return text;
    }
}
