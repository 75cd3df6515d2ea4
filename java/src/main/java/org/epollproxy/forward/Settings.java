package org.epollproxy.forward;

/** Process-wide forwarding settings, filled from the command line; read-only once the proxy starts. */
public final class Settings {
    /** Bytes per direction buffer: the most a connection ever holds per direction in user space. */
    public int bufferSize = 64 * 1024;
    /** A backend connect still pending after this many ms fails with "connect timeout". */
    public int connectTimeoutMs = 5000;
    /** Close a pair after this many seconds with no byte moved either way; 0 = never. */
    public int idleTimeoutSec = 0;
    /** Close a half-closed pair (one FIN seen) after this many seconds; 0 = never. */
    public int finTimeoutSec = 60;
    /** SO_KEEPALIVE on both sockets of each pair, so dead peers are noticed. */
    public boolean keepalive = false;
    /** Stop accepting while this many connections are open (all forwards together); 0 = no cap. */
    public int maxConnections = 0;
    /** Print every epoll event and syscall outcome on stderr. */
    public boolean trace = false;
    /** listen(2) backlog. */
    public int backlog = 1024;
    /** Event loops (threads), each with its own epoll fd and SO_REUSEPORT listeners. */
    public int threads = 1;
    /** Forward through a pipe per direction with splice(2) instead of copying through user space. */
    public boolean splice = false;
    /** UDP: a session with no datagram either way for this long ends (rinetd's default is 72 s). */
    public int udpTimeoutSec = 72;
    /** UDP: sessions per forward (per loop); at the cap the least recently used one is evicted. */
    public int udpMaxSessions = 4096;
    /** Log one line per connection on stderr when it ends. */
    public boolean logConnections = true;
}
