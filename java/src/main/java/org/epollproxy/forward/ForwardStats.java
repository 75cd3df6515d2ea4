package org.epollproxy.forward;

/**
 * Counters of one forward on one loop (written by that loop's thread only; summed across loops by
 * readers, see {@link ForwardStats#add}).
 */
public final class ForwardStats {
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
    /** UDP: sessions ended because the cap was reached (the oldest goes). */
    public long sessionsEvicted;
    /** Connections that ended by timeout (connect, idle or FIN) / by a reset from either side. */
    public long timeouts;
    public long resets;

    /** Adds {@code o}'s counters into this one (for a total over loops). */
    public void add(ForwardStats o) {
        accepted += o.accepted;
        active += o.active;
        connected += o.connected;
        connectFailures += o.connectFailures;
        denied += o.denied;
        bytesUp += o.bytesUp;
        bytesDown += o.bytesDown;
        acceptPauses += o.acceptPauses;
        bytesSplicedUp += o.bytesSplicedUp;
        bytesSplicedDown += o.bytesSplicedDown;
        spliceFallbacks += o.spliceFallbacks;
        for (int i = 0; i < ends.length; i++) ends[i] += o.ends[i];
        capPauses += o.capPauses;
        datagramsIn += o.datagramsIn;
        datagramsOut += o.datagramsOut;
        datagramsDropped += o.datagramsDropped;
        sessionsEvicted += o.sessionsEvicted;
        timeouts += o.timeouts;
        resets += o.resets;
    }
}
