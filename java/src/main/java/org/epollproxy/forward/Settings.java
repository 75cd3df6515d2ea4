package org.epollproxy.forward;

/**
 * Process-wide forwarding settings, from the command line. Immutable: every loop reads the same
 * instance without locks; build one with {@link #builder()}.
 *
 * @param bufferSize bytes per direction buffer: the most a connection ever holds per direction in user space
 * @param connectTimeoutMs a backend connect still pending after this many ms fails with "connect timeout"
 * @param idleTimeoutSec close a pair after this many seconds with no byte moved either way; 0 = never
 * @param finTimeoutSec close a half-closed pair (one FIN seen) after this many seconds; 0 = never
 * @param keepalive SO_KEEPALIVE on both sockets of each pair, so dead peers are noticed
 * @param maxConnections stop accepting while this many connections are open (all forwards together); 0 = no cap
 * @param trace print every epoll event and syscall outcome on stderr
 * @param backlog listen(2) backlog
 * @param threads event loops (threads), each with its own epoll fd and SO_REUSEPORT listeners
 * @param splice forward through a pipe per direction with splice(2) instead of copying through user space
 * @param udpTimeoutSec UDP: a session with no datagram either way for this long ends (rinetd's default is 72 s)
 * @param udpMaxSessions UDP: sessions per forward (per loop); at the cap the least recently used one is evicted
 * @param logConnections log one line per connection on stderr when it ends
 * @param pipeSize with splice: each pipe's capacity (F_SETPIPE_SZ), 0 = the kernel's default (64 KiB)
 * @param unixMode permission bits of the UNIX socket files the proxy listens on (0660); -1 = as the umask makes them
 * @param proxyHeaderTimeoutMs with accept-proxy: a client whose PROXY header is not complete by then is closed
 * @param maxPerClient open connections per client address (IPv4 address, IPv6 /64); 0 = no limit
 * @param clientRate new connections per client address per {@code clientRatePerSec} seconds; 0 = no limit
 * @param clientRatePerSec the period of {@code clientRate}, in seconds
 * @param clientTableSize the most client addresses tracked for the two limits above (memory bound)
 * @param ioUring the forwarding loops wait and send through io_uring where the kernel allows it, else epoll
 */
public record Settings(int bufferSize, int connectTimeoutMs, int idleTimeoutSec, int finTimeoutSec, boolean keepalive,
        int maxConnections, boolean trace, int backlog, int threads, boolean splice, int udpTimeoutSec,
        int udpMaxSessions, boolean logConnections, int pipeSize, int unixMode, int proxyHeaderTimeoutMs, int maxPerClient,
        int clientRate, int clientRatePerSec, int clientTableSize, boolean ioUring) {

    /** The defaults, as documented in the README's option table. */
    public static final Settings DEFAULTS = builder().build();

    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from these settings. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.bufferSize = bufferSize;
        b.connectTimeoutMs = connectTimeoutMs;
        b.idleTimeoutSec = idleTimeoutSec;
        b.finTimeoutSec = finTimeoutSec;
        b.keepalive = keepalive;
        b.maxConnections = maxConnections;
        b.trace = trace;
        b.backlog = backlog;
        b.threads = threads;
        b.splice = splice;
        b.udpTimeoutSec = udpTimeoutSec;
        b.udpMaxSessions = udpMaxSessions;
        b.logConnections = logConnections;
        b.pipeSize = pipeSize;
        b.unixMode = unixMode;
        b.proxyHeaderTimeoutMs = proxyHeaderTimeoutMs;
        b.maxPerClient = maxPerClient;
        b.clientRate = clientRate;
        b.clientRatePerSec = clientRatePerSec;
        b.clientTableSize = clientTableSize;
        b.ioUring = ioUring;
        return b;
    }

    /** Collects settings one by one (the CLI, tests), then {@link #build()}s the immutable record. */
    public static final class Builder {
        private int bufferSize = 32 * 1024;
        private int connectTimeoutMs = 5000;
        private int idleTimeoutSec = 0;
        private int finTimeoutSec = 60;
        private boolean keepalive = false;
        private int maxConnections = 0;
        private boolean trace = false;
        private int backlog = 1024;
        private int threads = 1;
        private boolean splice = false;
        private int udpTimeoutSec = 72;
        private int udpMaxSessions = 4096;
        private boolean logConnections = true;
        private int pipeSize = 0;
        private int unixMode = -1;
        private int proxyHeaderTimeoutMs = 3000;
        private int maxPerClient = 0;
        private int clientRate = 0;
        private int clientRatePerSec = 1;
        private int clientTableSize = 65536;
        private boolean ioUring = false;

        private Builder() {}

        public Builder bufferSize(int v) { bufferSize = v; return this; }
        public Builder connectTimeoutMs(int v) { connectTimeoutMs = v; return this; }
        public Builder idleTimeoutSec(int v) { idleTimeoutSec = v; return this; }
        public Builder finTimeoutSec(int v) { finTimeoutSec = v; return this; }
        public Builder keepalive(boolean v) { keepalive = v; return this; }
        public Builder maxConnections(int v) { maxConnections = v; return this; }
        public Builder trace(boolean v) { trace = v; return this; }
        public Builder backlog(int v) { backlog = v; return this; }
        public Builder threads(int v) { threads = v; return this; }
        public Builder splice(boolean v) { splice = v; return this; }
        public Builder udpTimeoutSec(int v) { udpTimeoutSec = v; return this; }
        public Builder udpMaxSessions(int v) { udpMaxSessions = v; return this; }
        public Builder logConnections(boolean v) { logConnections = v; return this; }
        public Builder pipeSize(int v) { pipeSize = v; return this; }
        public Builder unixMode(int v) { unixMode = v; return this; }
        public Builder proxyHeaderTimeoutMs(int v) { proxyHeaderTimeoutMs = v; return this; }
        public Builder maxPerClient(int v) { maxPerClient = v; return this; }
        public Builder clientRate(int n, int perSec) { clientRate = n; clientRatePerSec = perSec; return this; }
        public Builder clientTableSize(int v) { clientTableSize = v; return this; }
        public Builder ioUring(boolean v) { ioUring = v; return this; }

        public Settings build() {
            return new Settings(bufferSize, connectTimeoutMs, idleTimeoutSec, finTimeoutSec, keepalive, maxConnections,
                    trace, backlog, threads, splice, udpTimeoutSec, udpMaxSessions, logConnections, pipeSize, unixMode,
                    proxyHeaderTimeoutMs, maxPerClient, clientRate, clientRatePerSec, clientTableSize, ioUring);
        }
    }
}
