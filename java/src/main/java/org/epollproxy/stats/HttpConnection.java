package org.epollproxy.stats;

import static org.epollproxy.shim.Epoll.EPOLLIN;
import static org.epollproxy.shim.Epoll.EPOLLOUT;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.epollproxy.loop.EventLoop;
import org.epollproxy.loop.Handler;
import org.epollproxy.loop.Timer;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.NativeMemory;
import org.epollproxy.shim.Net;

/**
 * One HTTP client of the stats endpoint, on the stats loop: read one request (at most
 * {@link #MAX_REQUEST} bytes), answer it, close (after a short linger that drops what the client still
 * sends, so the close is a FIN after the answer, not a reset that loses it). Its own deadline (the server's client timeout) covers
 * reading the request and, reset once, writing the answer: a client that sends nothing, sends one byte
 * at a time or never reads is closed then, and holds nothing but its fd and these few bytes meanwhile.
 * No thread per client, so an idle or slow client delays nobody else.
 */
final class HttpConnection extends Timer implements Handler {
    /** Request line and headers; a GET needs a few hundred bytes. */
    static final int MAX_REQUEST = 8192;
    /** Answers up to this size are written at once, outside the server's write budget. */
    static final int SMALL_ANSWER = 4096;
    /**
     * After the answer, how long and how much of what the client still sends (a body, pipelined requests,
     * the rest of an oversized header) is read and discarded before the close. Closing with unread bytes
     * makes the kernel send a reset, and a reset makes the client's kernel drop the answer it had not read
     * yet: the client saw "connection reset" instead of its 431 or its /healthz "ok".
     */
    static final long LINGER_MS = 2000;
    static final int LINGER_BYTES = 1 << 20;

    private final StatsServer server;
    private final EventLoop loop;
    private final Kernel k;
    private final int fd;
    private final long token;
    private byte[] request = new byte[256];
    private int requestLength;
    /**
     * The answer being written (null while reading or waiting for the loops): its head, then its body (shared,
     * never written to, by every client of one round: 1,000 scrapes hold one copy), and how much went out.
     */
    private byte[] response;
    private byte[] body;
    /** {@link #body} is counted in the server's bytes held for clients, until it is all sent or this closes. */
    private boolean holding;
    private int sent;
    private boolean closed;
    /** The answer went out and the write side is shut: reading only to discard, until EOF. */
    private boolean lingering;
    /** Its whole request head arrived: it is being answered. */
    private boolean requested;
    private int discarded;
    /** Accepted beyond the regular client slots: only a probe (/healthz, /livez) is answered. */
    private final boolean probeOnly;

    HttpConnection(StatsServer server, int fd, boolean probeOnly) {
        this.probeOnly = probeOnly;
        this.server = server;
        this.loop = server.loop();
        this.k = loop.kernel();
        this.fd = fd;
        this.token = loop.register(fd, this);
        server.opened(this); // listed before anything can close it
        loop.schedule(this, loop.now() + server.clientTimeoutNanos());
        interest(EPOLLIN);
    }

    @Override
    public void onEvent(int events) {
        if (lingering) discard();
        else if (response != null) write();
        else read();
    }

    private void read() {
        while (!closed) {
            int room = Math.min(server.scratchSize(), MAX_REQUEST + 1 - requestLength);
            int n = k.recv(fd, server.scratch(), room);
            if (n == -Errno.EAGAIN) return;
            if (n <= 0) { // EOF before a whole request, or an error: nothing to answer
                close();
                return;
            }
            if (requestLength + n > request.length) request = Arrays.copyOf(request, Math.max(request.length * 2, requestLength + n));
            NativeMemory.get(server.scratch(), request, requestLength, n);
            int from = Math.max(0, requestLength - 3);
            requestLength += n;
            if (headEnds(from)) {
                requested = true;
                interest(0); // nothing more to read; the answer may wait for the loops
                server.serve(this, new String(request, 0, requestLength, StandardCharsets.ISO_8859_1));
                return;
            }
            if (requestLength > MAX_REQUEST) {
                boolean lineEnded = indexOf((byte) '\n') >= 0;
                respond(lineEnded ? 431 : 414, StatsServer.TEXT, "request too large (over " + MAX_REQUEST + " bytes)\n", false, null);
                return;
            }
        }
    }

    /** The request head ended (an empty line) at or after {@code from}. */
    private boolean headEnds(int from) {
        for (int i = from; i < requestLength; i++) {
            if (request[i] != '\n') continue;
            if (i >= 1 && request[i - 1] == '\n') return true;
            if (i >= 2 && request[i - 1] == '\r' && request[i - 2] == '\n') return true;
        }
        return false;
    }

    private int indexOf(byte b) {
        for (int i = 0; i < requestLength; i++) if (request[i] == b) return i;
        return -1;
    }

    /** Holds a slot without being served: still sending its request, or lingering after its answer. */
    boolean idle() {
        return !closed && (lingering || (response == null && !requested));
    }

    boolean probeOnly() {
        return probeOnly;
    }

    /** Answers and closes once written; {@code allow} is the Allow header's value for 405, else null. */
    void respond(int status, String contentType, String body, boolean head, String allow) {
        if (closed) return; // timed out while the loops answered
        respond(status, contentType, body.getBytes(StandardCharsets.UTF_8), head, allow);
    }

    /** As above with the body already encoded (one rendering shared by every client of a round). */
    void respond(int status, String contentType, byte[] b, boolean head, String allow) {
        if (closed) return;
        StringBuilder h = new StringBuilder(160);
        h.append("HTTP/1.1 ").append(status).append(' ').append(reason(status)).append("\r\n");
        h.append("Content-Type: ").append(contentType).append("\r\n");
        h.append("Content-Length: ").append(b.length).append("\r\n");
        h.append("Cache-Control: no-store\r\n");
        if (allow != null) h.append("Allow: ").append(allow).append("\r\n");
        h.append("X-Content-Type-Options: nosniff\r\n"); // JSON and text are never read as HTML
        if (contentType.equals(StatusPage.TYPE)) h.append(StatusPage.HEADERS);
        h.append("Connection: close\r\n\r\n");
        response = h.toString().getBytes(StandardCharsets.ISO_8859_1);
        body = head ? new byte[0] : b;
        if (body.length > SMALL_ANSWER) {
            server.held().hold(body);
            holding = true;
        }
        sent = 0;
        loop.schedule(this, loop.now() + server.clientTimeoutNanos()); // a fresh deadline to take the answer
        write();
    }

    private void write() {
        int total = response.length + body.length;
        boolean small = total <= SMALL_ANSWER; // probes, errors: never held back behind the scrapes
        while (!closed && sent < total) {
            int len = Math.min(server.scratchSize(), total - sent);
            if (!small && (len = server.writeAllowance(len)) == 0) {
                interest(EPOLLOUT); // level-triggered: reported again on the next iteration, with a fresh budget
                return;
            }
            int fromHead = Math.max(0, Math.min(len, response.length - sent));
            if (fromHead > 0) NativeMemory.put(server.scratch(), response, sent, fromHead);
            if (len > fromHead) NativeMemory.put(server.scratch() + fromHead, body, sent + fromHead - response.length, len - fromHead);
            int n = k.send(fd, server.scratch(), len);
            if (!small) server.unused(len - Math.max(n, 0));
            if (n == -Errno.EAGAIN) {
                interest(EPOLLOUT);
                return;
            }
            if (n < 0) {
                close();
                return;
            }
            sent += n;
        }
        linger();
    }

    /**
     * The whole answer is in the kernel: end the write side (the FIN follows the answer), then read and drop
     * what the client still sends until it closes too, or for at most {@link #LINGER_MS} and
     * {@link #LINGER_BYTES}, so the close does not reset the connection under an answer not yet read.
     */
    private void linger() {
        if (closed) return;
        letGoOfBody();
        if (k.shutdown(fd, Net.SHUT_WR) < 0) {
            close();
            return;
        }
        lingering = true;
        loop.schedule(this, loop.now() + Math.min(server.clientTimeoutNanos(), LINGER_MS * 1_000_000L));
        interest(EPOLLIN);
        server.idled();
        discard();
    }

    private void letGoOfBody() {
        if (holding) server.held().drop(body);
        holding = false;
        body = null;
    }

    private void discard() {
        while (!closed) {
            int n = k.recv(fd, server.scratch(), server.scratchSize());
            if (n == -Errno.EAGAIN) return;
            if (n <= 0 || (discarded += n) > LINGER_BYTES) { // the client closed too, or keeps sending: enough
                close();
                return;
            }
        }
    }

    private void interest(int mask) {
        if (!closed && loop.setInterest(token, mask) < 0) close();
    }

    /** The deadline passed: the client was too slow to send its request or to take the answer, or lingered long enough. */
    @Override
    protected void onTimer(long now) {
        close();
    }

    @Override
    public void onFailure(RuntimeException e) {
        close();
    }

    void close() {
        if (closed) return;
        closed = true;
        letGoOfBody();
        loop.cancel(this);
        loop.release(token, false);
        k.close(fd);
        server.closed(this);
    }

    private static String reason(int status) {
        switch (status) {
            case 200: return "OK";
            case 400: return "Bad Request";
            case 404: return "Not Found";
            case 405: return "Method Not Allowed";
            case 414: return "URI Too Long";
            case 431: return "Request Header Fields Too Large";
            case 503: return "Service Unavailable";
            default: return "Status";
        }
    }
}
