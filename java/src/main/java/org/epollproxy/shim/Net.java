package org.epollproxy.shim;

/**
 * Socket constants named as in socket(7), tcp(7), ipv6(7) and shutdown(2), with Linux's values
 * (the same on x86-64 and aarch64; ConstantsTest asserts each one against the shim).
 */
public final class Net {
    public static final int AF_UNIX = 1;
    public static final int AF_INET = 2;
    public static final int AF_INET6 = 10;
    public static final int SOCK_STREAM = 1;
    public static final int SOCK_DGRAM = 2;
    public static final int SOCK_NONBLOCK = 0x800;
    public static final int SOCK_CLOEXEC = 0x80000;

    public static final int SOL_SOCKET = 1;
    public static final int SO_REUSEADDR = 2;
    public static final int SO_TYPE = 3;
    public static final int SO_ERROR = 4;
    public static final int SO_SNDBUF = 7;
    public static final int SO_RCVBUF = 8;
    public static final int SO_KEEPALIVE = 9;
    public static final int SO_LINGER = 13;
    public static final int SO_REUSEPORT = 15;
    public static final int SO_PEERCRED = 17;
    public static final int SO_ACCEPTCONN = 30;

    public static final int IPPROTO_TCP = 6;
    public static final int IPPROTO_UDP = 17;
    public static final int IPPROTO_IPV6 = 41;
    public static final int TCP_NODELAY = 1;
    public static final int TCP_KEEPIDLE = 4;
    public static final int TCP_KEEPINTVL = 5;
    public static final int TCP_KEEPCNT = 6;
    public static final int IPV6_V6ONLY = 26;

    public static final int SHUT_RD = 0;
    public static final int SHUT_WR = 1;
    public static final int SHUT_RDWR = 2;
    public static final int MSG_NOSIGNAL = 0x4000;
    public static final int MSG_TRUNC = 0x20;
    public static final int MSG_WAITALL = 0x100;

    public static final int O_NONBLOCK = 0x800;
    public static final int SPLICE_F_MOVE = 1;
    public static final int SPLICE_F_NONBLOCK = 2;
    public static final int SPLICE_F_MORE = 4;

    /** Every constant name declared here, for the test that checks them against the shim. */
    public static String[] names() {
        java.util.List<String> out = new java.util.ArrayList<>();
        for (java.lang.reflect.Field f : Net.class.getFields()) out.add(f.getName());
        return out.toArray(new String[0]);
    }

    private Net() {}
}
