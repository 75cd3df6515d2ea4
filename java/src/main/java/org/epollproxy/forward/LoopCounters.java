package org.epollproxy.forward;

import org.epollproxy.loop.Counters;

/** Forwarding counters of one loop, written by its thread only. */
public final class LoopCounters extends Counters<LoopCounters> {
    /** recv returned -EAGAIN (a wakeup with nothing to read). */
    public long eagainRecv;
    /** send returned -EAGAIN (the peer's socket buffer was full). */
    public long eagainSend;
    /** send took only part of the bytes (the peer's socket buffer filled up: backpressure began). */
    public long partialSends;
    /** Speculative I/O (docs/internals.md): a client read right after accept found bytes / found none (EAGAIN). */
    public long speculativeRecvHits;
    public long speculativeRecvMisses;
    /**
     * A send right after a loopback connect answered EINPROGRESS: it settled the connect (sent: connected;
     * an error: failed) / found the connect still under way (EAGAIN).
     */
    public long speculativeSendHits;
    public long speculativeSendMisses;
    /** malloc refused a forwarding buffer; the connection that needed it was reset, the loop went on. */
    public long bufferAllocFailures;
    /** malloc_trim calls after buffers were freed (memory given back after a burst). */
    public long mallocTrims;

    @Override
    protected LoopCounters blank() {
        return new LoopCounters();
    }
}
