package org.epollproxy.forward;

import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.epollproxy.shim.SockAddr;

/**
 * {@code --max-connections-per-client} and {@code --client-rate}: open connections and new connections per
 * second by client address, an IPv4 address or an IPv6 /64 prefix (one host usually holds a whole /64, so
 * counting IPv6 addresses one by one would limit nothing). Shared by every loop (one lock, taken once per
 * accepted connection and once per close; never on the byte path).
 *
 * <p>The table is bounded ({@code --client-table-size} addresses, about 110 bytes each) whatever clients do:
 * an address with open connections is "busy" and kept (there are never more busy addresses than open
 * connections); the others are "idle", in least-recently-seen order. The oldest idle address is forgotten to
 * make room only once its bucket has filled up again: forgetting it then loses nothing (a new entry starts
 * full), while forgetting a rate-limited address would hand it a fresh burst (cycling through more addresses
 * than the table holds would reset anyone's limit).
 *
 * <p>When no address can be forgotten, a new address falls into the <em>overflow</em>: one bucket shared by
 * every address outside the table, limited like a single client (the same open connections and rate), so
 * that whatever the number of addresses, the ones outside the table together get no more than one client's
 * share and each of them no more than its own. Each admitted overflow address keeps a small entry of its own
 * while its connections are open or its bucket is not full (at most the overflow's own admissions, so
 * bounded by the limits), and takes that entry into the table when it gets a slot: moving in does not reset
 * it. Refusing new addresses outright would have been simpler, but would shut every newcomer out while a
 * full table lasts; the overflow keeps serving them, at one client's pace.
 */
public final class ClientLimits {
    /** Admitted without an entry: nothing to release (no limits set, or a UNIX client). */
    public static final Entry UNTRACKED = new Entry();

    /** One client address (or the overflow): its open connections and its token bucket for the rate. */
    public static final class Entry {
        private Object key;
        private int open;
        /** Of {@link #open}, the connections admitted through the overflow (they hold an overflow slot too). */
        private int openInOverflow;
        private boolean inTable;
        private double tokens;
        private long refilledAt;
    }

    private final int maxOpen;
    private final int rate;
    private final long periodNanos;
    private final int capacity;
    private final Map<Object, Entry> busy = new HashMap<>();
    private final LinkedHashMap<Object, Entry> idle = new LinkedHashMap<>(16, 0.75f, true);
    /** The addresses admitted through the overflow that still carry state (open connections, a bucket not full). */
    private final Map<Object, Entry> outside = new HashMap<>();
    private final Entry overflow = new Entry();
    private int outsidePruneAt = 64;
    private long overflowed;
    private long forgotten;

    /**
     * @param maxOpen open connections per address, 0 = no limit
     * @param rate new connections per {@code periodSec} per address (bursts of {@code rate}), 0 = no limit
     * @param capacity the most addresses tracked
     */
    public ClientLimits(int maxOpen, int rate, int periodSec, int capacity) {
        this.maxOpen = maxOpen;
        this.rate = rate;
        this.periodNanos = periodSec * 1_000_000_000L;
        this.capacity = Math.max(1, capacity);
        this.overflow.tokens = rate;
        this.overflow.refilledAt = Long.MIN_VALUE;
    }

    public static ClientLimits of(Settings s) {
        return new ClientLimits(s.maxPerClient(), s.clientRate(), s.clientRatePerSec(), s.clientTableSize());
    }

    public boolean enabled() {
        return maxOpen > 0 || rate > 0;
    }

    /**
     * A new connection from {@code client} at {@code nowNanos}: its entry (give it back with {@link #release}
     * when the connection ends), {@link #UNTRACKED}, or null when the client (or, outside the table, the
     * overflow) is over a limit.
     */
    public synchronized Entry admit(SockAddr client, long nowNanos) {
        if (!enabled() || client.isUnix()) return UNTRACKED;
        Object key = key(client);
        Entry e = busy.get(key);
        if (e == null) e = idle.get(key);
        if (e == null) {
            e = outside.get(key);
            if (busy.size() + idle.size() < capacity || forgetOldestIdle(nowNanos)) {
                if (e == null) e = fresh(key, nowNanos);
                else outside.remove(key);
                e.inTable = true;
                (e.open > 0 ? busy : idle).put(key, e);
            } else {
                return admitOutside(key, e, nowNanos);
            }
        }
        if (!take(e, nowNanos)) return null;
        if (e.open++ == 0) busy.put(key, idle.remove(key));
        return e;
    }

    /** {@code key} has no slot in the full table: admitted if both it and the overflow are within the limits. */
    private Entry admitOutside(Object key, Entry e, long nowNanos) {
        if (e == null) e = fresh(key, nowNanos);
        if (!within(e, nowNanos) || !take(overflow, nowNanos)) return null;
        take(e, nowNanos);
        e.open++;
        e.openInOverflow++;
        overflow.open++;
        overflowed++;
        if (outside.put(key, e) == null && outside.size() >= outsidePruneAt) pruneOutside(nowNanos);
        return e;
    }

    private Entry fresh(Object key, long nowNanos) {
        Entry e = new Entry();
        e.key = key;
        e.tokens = rate;
        e.refilledAt = nowNanos;
        return e;
    }

    /** Whether {@code e} may open one more connection now (its bucket refilled to now). */
    private boolean within(Entry e, long nowNanos) {
        if (maxOpen > 0 && e.open >= maxOpen) return false;
        if (rate > 0) {
            if (e.refilledAt != Long.MIN_VALUE) {
                e.tokens = Math.min(rate, e.tokens + (double) (nowNanos - e.refilledAt) * rate / periodNanos);
            }
            e.refilledAt = nowNanos;
            if (e.tokens < 1) return false;
        }
        return true;
    }

    /** {@link #within}, and if so takes one token (the caller counts the open connection). */
    private boolean take(Entry e, long nowNanos) {
        if (!within(e, nowNanos)) return false;
        if (rate > 0) e.tokens -= 1;
        return true;
    }

    /** The bucket of {@code e} is full again by {@code nowNanos}: a fresh entry would be no different. */
    private boolean full(Entry e, long nowNanos) {
        return rate == 0 || e.tokens + (double) (nowNanos - e.refilledAt) * rate / periodNanos >= rate;
    }

    /** The connection admitted with {@code e} ended. */
    public synchronized void release(Entry e) {
        if (e == null || e == UNTRACKED) return;
        e.open--;
        if (e.openInOverflow > 0) { // which of its connections ends does not matter: only the counts do
            e.openInOverflow--;
            overflow.open--;
        }
        if (e.open == 0 && e.inTable && busy.remove(e.key) != null) idle.put(e.key, e);
    }

    private boolean forgetOldestIdle(long nowNanos) {
        Iterator<Entry> it = idle.values().iterator();
        if (!it.hasNext() || !full(it.next(), nowNanos)) return false;
        it.remove();
        forgotten++;
        return true;
    }

    /** Drops the outside addresses that carry nothing any more; amortised O(1) per admission. */
    private void pruneOutside(long nowNanos) {
        outside.values().removeIf(e -> e.open == 0 && full(e, nowNanos));
        outsidePruneAt = Math.max(64, 2 * outside.size());
    }

    /** Addresses tracked now. */
    public synchronized int size() {
        return busy.size() + idle.size();
    }

    public int capacity() {
        return capacity;
    }

    /** Connections admitted through the overflow (their address had no slot in the full table). */
    public synchronized long overflowed() {
        return overflowed;
    }

    /** Connections open now through the overflow (at most --max-connections-per-client). */
    public synchronized int overflowOpen() {
        return overflow.open;
    }

    /** Addresses outside the table still remembered (open connections through the overflow, or a bucket not full). */
    public synchronized int outside() {
        return outside.size();
    }

    /** Idle addresses forgotten to make room for new ones. */
    public synchronized long forgotten() {
        return forgotten;
    }

    /** An IPv4 address (also when IPv4-mapped in IPv6) as a Long; an IPv6 address by its /64 prefix. */
    static Object key(SockAddr client) {
        byte[] a = client.inetAddress().getAddress();
        boolean mapped = a.length == 16;
        for (int i = 0; i < 10 && mapped; i++) mapped = a[i] == 0;
        if (mapped && a[10] == (byte) 0xff && a[11] == (byte) 0xff) a = java.util.Arrays.copyOfRange(a, 12, 16);
        long v = 0;
        for (int i = 0; i < Math.min(8, a.length); i++) v = (v << 8) | (a[i] & 0xff);
        return a.length == 4 ? (Object) Long.valueOf(v) : new Prefix64(v);
    }

    /** An IPv6 /64 prefix, a key distinct from every IPv4 address. */
    record Prefix64(long bits) {}
}
