package org.epollproxy.forward.balance;

import static org.epollproxy.shim.Epoll.EPOLLERR;
import static org.epollproxy.shim.Epoll.EPOLLHUP;
import static org.epollproxy.shim.Epoll.EPOLLIN;
import static org.epollproxy.shim.Epoll.EPOLLOUT;

import java.nio.charset.StandardCharsets;
import org.epollproxy.forward.Balancing;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.ForwardingLoop;
import org.epollproxy.loop.EventLoop;
import org.epollproxy.loop.Handler;
import org.epollproxy.loop.Timer;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.Net;
import org.epollproxy.shim.NativeBuffer;
import org.epollproxy.shim.SockAddr;

/**
 * The active check of one backend, run by one loop: every interval a non-blocking connect (bound to the
 * forward's {@code src=} if any), then optionally a string sent and a reply prefix awaited (haproxy's
 * tcp-check send/expect: {@code PING\r\n} / {@code +PONG}, or an HTTP request / {@code HTTP/1.1 200}).
 * The whole check must finish within the interval. It is its own timer and its own epoll handler: no
 * thread, no blocking call. The check socket is closed with RST (no TIME_WAIT left per check).
 */
final class HealthCheck extends Timer implements Handler {
    private static final int IDLE = 0, CONNECTING = 1, SENDING = 2, EXPECTING = 3;

    private final ForwardingLoop fl;
    private final EventLoop loop;
    private final Kernel k;
    final BackendState state;
    final Forward forward;
    private final Balancing cfg;
    private final byte[] send;
    private final byte[] expect;
    private final NativeBuffer buf;
    private final int replyAt;
    private int phase = IDLE;
    private int fd = -1;
    private long token;
    private int done; // bytes sent (SENDING) or received (EXPECTING)
    private long startedAt;
    private boolean stopped;

    HealthCheck(ForwardingLoop fl, BackendState state, Forward forward) {
        this.fl = fl;
        this.loop = fl.loop();
        this.k = loop.kernel();
        this.state = state;
        this.forward = forward;
        this.cfg = forward.balancing();
        this.send = cfg.checkSend() == null ? null : cfg.checkSend().getBytes(StandardCharsets.ISO_8859_1);
        this.expect = cfg.checkExpect() == null ? null : cfg.checkExpect().getBytes(StandardCharsets.ISO_8859_1);
        // The string to send at 0, the reply after it: a reply must not overwrite what the next check sends.
        this.replyAt = send == null ? 0 : send.length;
        this.buf = NativeBuffer.allocate(Math.max(1, replyAt + (expect == null ? 0 : expect.length)));
        if (send != null) buf.buffer().put(0, send);
    }

    /** First check at {@code at} (loop clock), then one per interval. */
    void start(long at) {
        loop.schedule(this, at);
    }

    /** Stops checking: cancels the timer and closes a check in progress (its result is not counted). */
    void stop() {
        stopped = true;
        loop.cancel(this);
        closeSocket();
    }

    boolean running() {
        return fd >= 0;
    }

    @Override
    protected void onTimer(long now) {
        if (stopped) return;
        if (phase == IDLE) begin(now);
        else finish(false, phase == CONNECTING ? "connect timeout" : phase == SENDING ? "send timeout" : "no reply in time");
    }

    private void begin(long now) {
        startedAt = now;
        SockAddr a = state.address;
        fd = k.socket(a.isIpv6() ? Net.AF_INET6 : Net.AF_INET, Net.SOCK_STREAM | Net.SOCK_NONBLOCK | Net.SOCK_CLOEXEC, 0);
        if (fd < 0) { // out of fds: not the backend's fault; no verdict, try at the next interval
            fl.log().error("check of backend " + a + ": socket: " + Errno.describe(fd));
            fd = -1;
            next();
            return;
        }
        token = loop.register(fd, this);
        int rc = 0;
        if (forward.source() != null) rc = k.bind(fd, fl.addressBuffer(forward.source().withPort(0)));
        if (rc == 0) rc = k.connect(fd, fl.addressBuffer(a));
        loop.schedule(this, startedAt + cfg.checkIntervalMs() * 1_000_000L); // the whole check's deadline
        if (rc == 0) {
            connected();
        } else if (rc == -Errno.EINPROGRESS || rc == -Errno.EALREADY) {
            phase = CONNECTING;
            interest(EPOLLOUT);
        } else {
            finish(false, Errno.describe(rc));
        }
    }

    @Override
    public void onEvent(int events) {
        if (fd < 0) return;
        if (phase == CONNECTING) {
            if ((events & (EPOLLERR | EPOLLHUP)) != 0) {
                int err = k.sock_error(fd);
                finish(false, err != 0 ? Errno.describe(err) : "connection closed");
            } else if ((events & EPOLLOUT) != 0) {
                connected();
            }
        } else if (phase == SENDING) {
            sendMore();
        } else if (phase == EXPECTING) {
            readMore();
        }
    }

    private void connected() {
        if (send != null) {
            phase = SENDING;
            done = 0;
            sendMore();
        } else {
            afterSend();
        }
    }

    private void afterSend() {
        if (expect == null) {
            finish(true, null);
            return;
        }
        phase = EXPECTING;
        done = 0;
        interest(EPOLLIN);
    }

    private void sendMore() {
        int n = k.send(fd, buf.address() + done, send.length - done);
        if (n == -Errno.EAGAIN) {
            interest(EPOLLOUT);
            return;
        }
        if (n < 0) {
            finish(false, "send: " + Errno.describe(n));
            return;
        }
        done += n;
        if (done < send.length) {
            interest(EPOLLOUT);
            return;
        }
        afterSend();
    }

    /** Reads up to the expected prefix's length; a wrong byte fails at once, the whole prefix passes. */
    private void readMore() {
        int n = k.recv(fd, buf.address() + replyAt + done, expect.length - done);
        if (n == -Errno.EAGAIN) return;
        if (n < 0) {
            finish(false, "recv: " + Errno.describe(n));
            return;
        }
        if (n == 0) {
            finish(false, "closed after " + done + " of " + expect.length + " expected bytes");
            return;
        }
        for (int i = done; i < done + n; i++) {
            if (buf.buffer().get(replyAt + i) != expect[i]) {
                byte[] got = new byte[done + n];
                buf.buffer().get(replyAt, got);
                finish(false, "unexpected reply \"" + printable(got) + "\"");
                return;
            }
        }
        done += n;
        if (done == expect.length) finish(true, null);
    }

    private static String printable(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            int c = x & 0xff;
            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') sb.append((char) c);
            else sb.append(String.format("\\x%02x", c));
        }
        return sb.toString();
    }

    private void interest(int mask) {
        int rc = loop.setInterest(token, mask);
        if (rc < 0) finish(false, "epoll_ctl: " + Errno.describe(rc));
    }

    private void finish(boolean ok, String why) {
        closeSocket();
        String line = state.checked(ok, why, cfg);
        if (line != null) fl.log().info(line);
        next();
    }

    private void next() {
        phase = IDLE;
        long at = startedAt + cfg.checkIntervalMs() * 1_000_000L;
        loop.schedule(this, at - loop.now() > 0 ? at : loop.now());
    }

    private void closeSocket() {
        if (fd < 0) return;
        k.set_linger(fd, 1, 0);
        loop.release(token, false);
        k.close(fd);
        fd = -1;
    }

    @Override
    public void onFailure(RuntimeException e) {
        if (stopped) return;
        closeSocket(); // the loop logged it; count nothing, check again at the next interval
        loop.cancel(this);
        next();
    }
}
