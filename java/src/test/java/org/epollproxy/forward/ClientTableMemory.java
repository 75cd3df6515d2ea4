package org.epollproxy.forward;

import org.epollproxy.shim.SockAddr;

/** Heap per tracked client address of the per-client table, as docs/operations.md quotes it (run after mvn test-compile). */
public final class ClientTableMemory {
    static long used() { for (int i = 0; i < 5; i++) System.gc(); Runtime r = Runtime.getRuntime(); return r.totalMemory() - r.freeMemory(); }
    public static void main(String[] a) throws Exception {
        int n = 65536;
        SockAddr[] addrs = new SockAddr[n];
        for (int i = 0; i < n; i++) addrs[i] = SockAddr.parse("10." + (i >> 16 & 255) + "." + (i >> 8 & 255) + "." + (i & 255), 1);
        String mode = a.length > 0 ? a[0] : "v4"; // "v6": 65,536 different /64 prefixes
        if (mode.equals("v6")) for (int i = 0; i < n; i++) addrs[i] = SockAddr.parse("2001:db8:" + Integer.toHexString(i) + "::1", 1);
        long before = used();
        ClientLimits t = new ClientLimits(0, 10, 1, n);
        for (int i = 0; i < n; i++) t.release(t.admit(addrs[i], i));
        long after = used();
        System.out.println(mode + ": " + t.size() + " addresses, " + (after - before) / t.size() + " bytes each, " + (after - before) / 1024 / 1024 + " MiB");
        if (t.size() < 0) System.out.println(addrs.length); // keeps the addresses alive past the second measure
    }
}
