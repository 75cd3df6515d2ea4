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
 */
public record ConnectionRecord(Forward forward, SockAddr client, Backend backend, long up, long down, long millis,
        EndReason reason, int errno) {

    /**
     * The stderr line's fields after the timestamp:
     * {@code tcp client=A listen=B backend=C up=N down=N ms=N end=REASON [errno=E]}.
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
        return sb;
    }
}
