package org.epollproxy.forward;

import org.epollproxy.shim.Errno;
import org.epollproxy.shim.SockAddr;

/**
 * What the logs say about one finished connection (TCP) or session (UDP).
 *
 * @param backend the backend that served or was tried last; null if none was tried (denied)
 * @param up bytes delivered client -> backend
 * @param down bytes delivered backend -> client
 * @param errno the failing syscall's errno (negative or positive), or 0
 * @param why what was wrong with the client's input, in words (end=bad-proxy-header: what the PROXY
 *     header lacked or held), or null
 * @param routed with routes: the route chosen and what the client's first bytes named; null without routes
 * @param tls a TLS connection's version, cipher suite, ALPN and client certificate subject; null without TLS
 */
public record ConnectionRecord(Forward forward, SockAddr client, Backend backend, long up, long down, long millis,
        EndReason reason, int errno, String why, Routed routed, String tls) {

    public ConnectionRecord(Forward forward, SockAddr client, Backend backend, long up, long down, long millis,
            EndReason reason, int errno, String why, Routed routed) {
        this(forward, client, backend, up, down, millis, reason, errno, why, routed, null);
    }

    public ConnectionRecord(Forward forward, SockAddr client, Backend backend, long up, long down, long millis,
            EndReason reason, int errno, String why) {
        this(forward, client, backend, up, down, millis, reason, errno, why, null);
    }

    public ConnectionRecord(Forward forward, SockAddr client, Backend backend, long up, long down, long millis,
            EndReason reason, int errno) {
        this(forward, client, backend, up, down, millis, reason, errno, null);
    }

    /**
     * The stderr line's fields after the timestamp:
     * {@code tcp client=A listen=B backend=C up=N down=N ms=N end=REASON [errno=E] [why="TEXT"]}, TEXT with
     * {@code "} and {@code \} escaped by a backslash, so the line stays one line of key=value fields. With
     * routes: {@code route=NAME sni="NAME" alpn="P1,P2"} follow (sni and alpn come from the client: quoted and
     * escaped the same way, every byte outside printable ASCII shown as '?'; "-" for none). With TLS:
     * {@code tls="TLSv1.3 CIPHER [alpn=P] [subject=DN]"}.
     */
    public StringBuilder appendTo(StringBuilder sb) {
        sb.append(forward.proto().lower())
                .append(" client=").append(client)
                .append(" listen=").append(forward.bind())
                .append(" backend=").append(backend == null ? "-" : backend.toString())
                .append(" up=").append(up)
                .append(" down=").append(down)
                .append(" ms=").append(millis)
                .append(" end=").append(reason.text());
        if (errno != 0) sb.append(" errno=").append(Errno.name(errno));
        if (why != null) quoted(sb.append(" why="), why);
        if (routed != null) {
            sb.append(" route=").append(routed.route());
            quoted(sb.append(" sni="), routed.sni() == null ? "-" : routed.sni());
            quoted(sb.append(" alpn="), routed.alpnText());
        }
        if (tls != null) quoted(sb.append(" tls="), tls);
        return sb;
    }

    /** {@code "TEXT"}: '"' and '\\' escaped by a backslash, control characters (and any non-ASCII) as '?'. */
    static StringBuilder quoted(StringBuilder sb, String text) {
        sb.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '"' || c == '\\') sb.append('\\');
            sb.append(c < 0x20 || c >= 0x7f ? '?' : c);
        }
        return sb.append('"');
    }
}
