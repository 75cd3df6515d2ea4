package org.epollproxy.shim;

import java.nio.charset.StandardCharsets;

/**
 * strerror(3) text from the shim, cached per errno so an error message costs one native call per
 * distinct errno for the life of the process. Falls back to the errno name if the shim is absent
 * (for instance under a simulated kernel in tests).
 */
final class ErrorText {
    private static final String[] CACHE = new String[4096];

    static synchronized String of(int errno) {
        if (errno < 0 || errno >= CACHE.length) return "errno " + errno;
        String s = CACHE[errno];
        if (s != null) return s;
        Kernel k = Shim.loadedOrNull();
        // Not cached without the shim: the name is a stand-in, the real text comes once it is loaded.
        if (k == null) return Errno.name(errno);
        s = lookup(k, errno);
        CACHE[errno] = s;
        return s;
    }

    private static String lookup(Kernel k, int errno) {
        NativeBuffer buf = NativeBuffer.allocate(256);
        int n = k.strerror(errno, buf.address(), buf.capacity());
        if (n <= 0) return Errno.name(errno);
        byte[] bytes = new byte[n];
        buf.buffer().get(0, bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private ErrorText() {}
}
