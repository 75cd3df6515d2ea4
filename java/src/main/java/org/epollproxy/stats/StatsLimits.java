package org.epollproxy.stats;

/**
 * The bounds of the stats server, each with why it is that size: whatever clients of the stats port do,
 * the memory and the loop time they take stay within these, and probes keep being answered.
 */
final class StatsLimits {
    /** Clients served at once; more wait in the listen backlog until one closes. */
    static final int MAX_CLIENTS = 1024;
    /** Connections accepted beyond MAX_CLIENTS that may only ask /healthz or /livez (others: 503). */
    static final int PROBE_RESERVE = 64;
    /**
     * Bytes of answers that clients have not taken yet, above which a request that needs a new rendering gets
     * 503 (probes and requests joining a round in flight still get theirs). Each client holds its answer until
     * its socket has taken it, up to the client timeout: 1,000 clients asking /connections of 10,000 connections one
     * after the other and reading nothing held 1,000 copies of 3 MB, well past the 256 MB heap the launcher
     * gives, which the forwarding loops share.
     */
    static final long MAX_HELD_BYTES = 32 << 20;
    /**
     * SO_SNDBUF of each client: the kernel otherwise grows it to 2.8 MB for a client that never reads, and
     * 1,088 of them pinned 3 GB of kernel socket memory, the memory the forwarding sockets draw on too. This
     * much still fills a LAN, and a large answer is written in slices of it per loop iteration anyway.
     */
    static final int CLIENT_SNDBUF = 128 << 10;
    /**
     * Distinct /connections filters one round renders; a request with yet another gets 503. 1,000 requests
     * with 1,000 filters over 50,000 connections would be 50 million matches on the stats loop, seconds at
     * tens of ns each, which /healthz would wait behind.
     */
    static final int MAX_FILTERS_PER_ROUND = 32;
    /**
     * Bytes of large answers written per loop iteration, all clients together: 1,000 answers of 100 KB
     * written in one go kept the loop from accepting and answering a probe for hundreds of ms; in slices,
     * every iteration also accepts, reads and answers probes (small answers are not counted).
     */
    static final int WRITE_BUDGET = 4 << 20;

    private StatsLimits() {}
}
