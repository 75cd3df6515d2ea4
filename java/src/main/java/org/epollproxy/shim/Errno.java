package org.epollproxy.shim;

/**
 * errno values named as in errno(3), the Linux values (identical on x86-64 and aarch64; ConstantsTest
 * asserts each one against the shim), plus names and strerror text for messages.
 *
 * <p>Shim calls return {@code -errno}; compare with {@code rc == -Errno.EAGAIN}.
 */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int EWOULDBLOCK = EAGAIN;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int EXDEV = 18;
    public static final int ENOTDIR = 20;
    public static final int EISDIR = 21;
    public static final int EINVAL = 22;
    public static final int ENFILE = 23;
    public static final int EMFILE = 24;
    public static final int ENOSPC = 28;
    public static final int ENAMETOOLONG = 36;
    public static final int EPIPE = 32;
    public static final int ENOSYS = 38;
    public static final int ELOOP = 40;
    public static final int ETIME = 62;
    public static final int EBADFD = 77;
    public static final int ENOTSOCK = 88;
    public static final int EDESTADDRREQ = 89;
    public static final int EMSGSIZE = 90;
    public static final int EPROTOTYPE = 91;
    public static final int ENOPROTOOPT = 92;
    public static final int EPROTONOSUPPORT = 93;
    public static final int EOPNOTSUPP = 95;
    public static final int EAFNOSUPPORT = 97;
    public static final int EADDRINUSE = 98;
    public static final int EADDRNOTAVAIL = 99;
    public static final int ENETDOWN = 100;
    public static final int ENETUNREACH = 101;
    public static final int ENETRESET = 102;
    public static final int ECONNABORTED = 103;
    public static final int ECONNRESET = 104;
    public static final int ENOBUFS = 105;
    public static final int EISCONN = 106;
    public static final int ENOTCONN = 107;
    public static final int ESHUTDOWN = 108;
    public static final int ETIMEDOUT = 110;
    public static final int ECONNREFUSED = 111;
    public static final int EHOSTDOWN = 112;
    public static final int EHOSTUNREACH = 113;
    public static final int EALREADY = 114;
    public static final int EINPROGRESS = 115;
    public static final int ECANCELED = 125;

    private static final String[] NAMES = new String[134];

    static {
        for (java.lang.reflect.Field f : Errno.class.getFields()) {
            if (f.getType() == int.class && !f.getName().equals("EWOULDBLOCK")) {
                try {
                    NAMES[f.getInt(null)] = f.getName();
                } catch (IllegalAccessException e) {
                    throw new AssertionError(e);
                }
            }
        }
    }

    /** Every constant name declared here, for the test that checks them against the shim. */
    public static String[] names() {
        java.util.List<String> out = new java.util.ArrayList<>();
        for (java.lang.reflect.Field f : Errno.class.getFields()) {
            if (f.getType() == int.class) out.add(f.getName());
        }
        return out.toArray(new String[0]);
    }

    /** {@code EAGAIN} for 11 or -11; {@code errno 200} for a value without a name here. */
    public static String name(int errno) {
        int e = Math.abs(errno);
        String n = e < NAMES.length ? NAMES[e] : null;
        return n != null ? n : "errno " + e;
    }

    /** strerror text for errno (sign ignored), e.g. "Connection refused"; cached after first use. */
    public static String text(int errno) {
        return ErrorText.of(Math.abs(errno));
    }

    /** "ECONNREFUSED (Connection refused)": what a log line or an exception shows. */
    public static String describe(int errno) {
        return name(errno) + " (" + text(errno) + ")";
    }

    private Errno() {}
}
