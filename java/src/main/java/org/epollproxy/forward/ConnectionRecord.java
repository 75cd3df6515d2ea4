package org.epollproxy.forward;

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
        EndReason reason, int errno) {}
