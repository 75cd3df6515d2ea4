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
 * connections); the others are "idle", in least-recently-seen order, and the oldest idle one is forgotten
 * to make room. If every tracked address is busy (the table is smaller than the open connections), a new
 * address is admitted untracked and counted ({@link #untracked}): the limits then rest on
 * {@code --max-connections}, which bounds the table's would-be growth anyway.
 */
public final class ClientLimits {
    /** Admitted without an entry: nothing to release (no limits set, a UNIX client, or a full table). */
    public static final Entry UNTRACKED = new Entry();

    /** One client address: its open connections and its token bucket for the rate. */
    public static final class Entry {
        private Object key;
        private int open;
        private double tokens;
        private long refilledAt;
    }

    private final int maxOpen;
    private final int rate;
    private final long periodNanos;
    private final int capacity;
    private final Map<Object, Entry> busy = new HashMap<>();
    private final LinkedHashMap<Object, Entry> idle = new LinkedHashMap<>(16, 0.75f, true);
    private long untracked;
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
    }

    public static ClientLimits of(Settings s) {
        return new ClientLimits(s.maxPerClient(), s.clientRate(), s.clientRatePerSec(), s.clientTableSize());
    }

    public boolean enabled() {
        return maxOpen > 0 || rate > 0;
    }

    /**
     * A new connection from {@code client} at {@code nowNanos}: its entry (give it back with {@link #release}
     * when the connection ends), {@link #UNTRACKED}, or null when the client is over a limit.
     */
    public synchronized Entry admit(SockAddr client, long nowNanos) {
        if (!enabled() || client.isUnix()) return UNTRACKED;
        Object key = key(client);
        Entry e = busy.get(key);
        if (e == null) e = idle.get(key);
        if (e == null) {
            if (busy.size() + idle.size() >= capacity && !forgetOldestIdle()) {
                untracked++;
                return UNTRACKED;
            }
            e = new Entry();
            e.key = key;
            e.tokens = rate;
            e.refilledAt = nowNanos;
            idle.put(key, e);
        }
        if (maxOpen > 0 && e.open >= maxOpen) return null;
        if (rate > 0) {
            e.tokens = Math.min(rate, e.tokens + (double) (nowNanos - e.refilledAt) * rate / periodNanos);
            e.refilledAt = nowNanos;
            if (e.tokens < 1) return null;
            e.tokens -= 1;
        }
        if (e.open++ == 0) busy.put(key, idle.remove(key));
        return e;
    }

    /** The connection admitted with {@code e} ended. */
    public synchronized void release(Entry e) {
        if (e == null || e == UNTRACKED) return;
        if (--e.open == 0 && busy.remove(e.key) != null) idle.put(e.key, e);
    }

    private boolean forgetOldestIdle() {
        Iterator<Entry> it = idle.values().iterator();
        if (!it.hasNext()) return false;
        it.next();
        it.remove();
        forgotten++;
        return true;
    }

    /** Addresses tracked now. */
    public synchronized int size() {
        return busy.size() + idle.size();
    }

    public int capacity() {
        return capacity;
    }

    /** Connections admitted untracked because every tracked address had connections open. */
    public synchronized long untracked() {
        return untracked;
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
