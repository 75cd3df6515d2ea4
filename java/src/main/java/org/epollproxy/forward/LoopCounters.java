package org.epollproxy.forward;

/** Forwarding counters of one loop, written by its thread only. */
public final class LoopCounters {
    /** recv returned -EAGAIN (a wakeup with nothing to read). */
    public long eagainRecv;
    /** send returned -EAGAIN (the peer's socket buffer was full: backpressure began). */
    public long eagainSend;
}
