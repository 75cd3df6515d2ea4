package org.epollproxy.forward;

import org.epollproxy.loop.Counters;

/**
 * Counters of one forward on one loop (written by that loop's thread only; summed across loops by
 * readers with {@link #add}).
 */
public final class ForwardStats extends Counters<ForwardStats> {
    public long accepted;
    public long active;
    public long connected;
    public long connectFailures;
    public long denied;
    public long bytesUp;
    public long bytesDown;
    public long acceptPauses;
    /** Of bytesUp / bytesDown, the bytes that went through a splice pipe (zero-copy). */
    public long bytesSplicedUp;
    public long bytesSplicedDown;
    /** Directions that fell back from splice to the copy path (splice refused with EINVAL, or no pipe). */
    public long spliceFallbacks;
    /** Closed connections by how they ended, indexed by {@link EndReason#ordinal()}. */
    public final long[] ends = new long[EndReason.values().length];
    /** Times accepting stopped because --max-connections was reached. */
    public long capPauses;
    /** UDP: datagrams received from clients / sent back to them. */
    public long datagramsIn;
    public long datagramsOut;
    /** UDP: datagrams dropped (socket buffer full, denied client, backend unreachable, oversized). */
    public long datagramsDropped;
    /** UDP: datagrams cut by the receive buffer (MSG_TRUNC), dropped rather than forwarded short; also in datagramsDropped. */
    public long datagramsTruncated;
    /** UDP: replies that reached the socket of a session that had ended (kept open for a while so no other
     * session can get its port): dropped, never delivered to another client. Not in datagramsDropped. */
    public long lateReplies;
    /** UDP: ended sessions whose socket is still held in quarantine (a gauge). */
    public long quarantined;
    /** UDP: sessions ended because the cap was reached (the oldest goes). */
    public long sessionsEvicted;
    /** Connections that ended by timeout (connect, idle or FIN) / by a reset from either side. */
    public long timeouts;
    public long resets;

    /** Counts one ended connection: by reason, and as a timeout or a reset where it was one. */
    public void ended(EndReason reason) {
        ends[reason.ordinal()]++;
        switch (reason) {
            case CONNECT_TIMEOUT, IDLE_TIMEOUT, FIN_TIMEOUT, PREREAD_TIMEOUT -> timeouts++;
            case CLIENT_RESET, BACKEND_RESET -> resets++;
            default -> { }
        }
    }

    @Override
    protected ForwardStats blank() {
        return new ForwardStats();
    }
}
