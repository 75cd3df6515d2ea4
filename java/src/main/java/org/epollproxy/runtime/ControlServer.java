package org.epollproxy.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.Log;
import org.epollproxy.loop.EventLoop;
import org.epollproxy.loop.Handler;
import org.epollproxy.loop.Timer;
import org.epollproxy.shim.Epoll;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.NativeBuffer;
import org.epollproxy.shim.Net;
import org.epollproxy.shim.SockAddr;
import org.epollproxy.shim.SyscallException;

/**
 * {@code --control PATH}: a UNIX socket (mode 0600) served by loop 0, without blocking it, through which a
 * new process started with {@code --takeover PATH} receives the listening sockets; this process then
 * drains. It accepts a peer with our uid only (SO_PEERCRED), one takeover at a time, bounded lines
 * ({@link ControlChannel}), and gives up a conversation after {@link #DEADLINE_MS}. The protocol is in
 * {@link Takeover}.
 */
public final class ControlServer implements Handler {
    static final long DEADLINE_MS = 10_000;

    private final Kernel k;
    private final Path path;
    private final int fd;
    private EventLoop loop;
    private long token;
    private ProxyServer proxy;
    private Consumer<String> onTakenOver;
    private Log log;
    private ControlCommands commands;
    private Session current;
    private boolean closed;
    private boolean handedOver;

    private ControlServer(Kernel k, Path path, int fd) {
        this.k = k;
        this.path = path;
        this.fd = fd;
    }

    /**
     * Binds {@code path}. A file there that nobody listens on is stale and removed; one a process listens on
     * is refused (that process is running: take it over) unless {@code replace} (we just took it over).
     */
    public static ControlServer bind(Kernel k, Path path, boolean replace) {
        if (!replace && Files.exists(path)) {
            int probe = k.socket(Net.AF_UNIX, Net.SOCK_STREAM | Net.SOCK_CLOEXEC, 0);
            NativeBuffer a = unixAddress(path.toString());
            int rc = probe < 0 ? probe : k.connect(probe, a.address());
            java.lang.ref.Reference.reachabilityFence(a);
            if (probe >= 0) k.close(probe);
            if (rc == 0) throw new IllegalStateException("--control " + path + ": a running process listens there; start with --takeover " + path + " to replace it");
        }
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            throw new IllegalStateException("--control " + path + ": cannot remove the old socket file: " + e.getMessage());
        }
        int s = k.socket(Net.AF_UNIX, Net.SOCK_STREAM | Net.SOCK_NONBLOCK | Net.SOCK_CLOEXEC, 0);
        if (s < 0) throw new SyscallException("socket AF_UNIX for --control " + path, s);
        try {
            NativeBuffer a = unixAddress(path.toString());
            SyscallException.check(k.bind(s, a.address()), "bind --control " + path);
            java.lang.ref.Reference.reachabilityFence(a);
            // Nobody can connect before listen(): the mode is set while the socket refuses everyone.
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
            SyscallException.check(k.listen(s, 4), "listen --control " + path);
            return new ControlServer(k, path, s);
        } catch (IOException | RuntimeException e) {
            k.close(s);
            try {
                Files.deleteIfExists(path);
            } catch (IOException ignored) {
                // best effort
            }
            throw e instanceof RuntimeException re ? re : new IllegalStateException("--control " + path + ": " + e.getMessage());
        }
    }

    /** Serves on {@code p}'s loop 0; {@code onTakenOver} runs there once a successor has the sockets. */
    public void start(ProxyServer p, Consumer<String> onTakenOver, Log log) {
        this.proxy = p;
        this.onTakenOver = onTakenOver;
        this.log = log;
        this.commands = new ControlCommands(p, log);
        this.loop = p.loops().get(0);
        loop.execute(() -> {
            token = loop.register(fd, this);
            loop.setInterest(token, Epoll.EPOLLIN);
        });
    }

    /** Stops listening soon (a drain or a stop began); safe from any thread. */
    public void closeLater() {
        if (loop != null) loop.execute(this::close);
    }

    /** At exit: removes the file unless a successor owns the path now. */
    public void removeFile() {
        if (handedOver) return;
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // best effort at exit
        }
    }

    /** Stops listening (on the loop's thread); removes the file unless a successor now owns the path. */
    public void close() {
        if (closed) return;
        closed = true;
        if (current != null) current.end(null);
        loop.release(token, true);
        k.close(fd);
        if (!handedOver) {
            try {
                Files.deleteIfExists(path);
            } catch (IOException ignored) {
                // the file is only a name; nothing listens behind it any more
            }
        }
        log.flush();
    }

    @Override
    public void onEvent(int events) {
        while (!closed) {
            int c = k.accept(fd, 0);
            if (c < 0) {
                if (c != -Errno.EAGAIN) log.error("control " + path + ": accept: " + Errno.describe(c));
                return;
            }
            int uid = k.peer_uid(c);
            if (uid != k.getuid()) {
                log.error("control " + path + ": refused a connection from uid " + (uid < 0 ? Errno.describe(uid) : uid) + " (ours is " + k.getuid() + ")");
                k.close(c);
            } else if (current != null) {
                ControlChannel busy = new ControlChannel(k, c);
                busy.send("error a takeover is already in progress", -1);
                busy.flush();
                busy.close();
            } else {
                current = new Session(new ControlChannel(k, c));
            }
        }
    }

    @Override
    public void onFailure(RuntimeException e) {
        log.error("control " + path + ": " + e);
    }

    /** One takeover conversation. */
    private final class Session extends Timer implements Handler {
        final ControlChannel ch;
        final long token;
        int threads = -1;
        final List<String> wanted = new ArrayList<>();
        boolean listed; // "end" of the list came
        boolean sent; // the sockets went
        Map<Forward, int[]> sockets;

        Session(ControlChannel ch) {
            this.ch = ch;
            this.token = loop.register(ch.fd, this);
            loop.setInterest(token, Epoll.EPOLLIN);
            loop.schedule(this, loop.now() + DEADLINE_MS * 1_000_000L);
        }

        @Override
        protected void onTimer(long now) {
            end("no answer within " + DEADLINE_MS + " ms");
        }

        @Override
        public void onEvent(int events) {
            if ((events & Epoll.EPOLLOUT) != 0 && ch.flush()) loop.setInterest(token, Epoll.EPOLLIN);
            int rc = ch.read();
            if (rc < 0) {
                end("read: " + Errno.describe(rc));
                return;
            }
            for (String line; current == this && (line = ch.nextLine()) != null; ) handle(line);
            if (current == this && ch.eof()) end(sent ? "the new process hung up before it confirmed" : "the new process hung up");
        }

        private void handle(String line) {
            if (threads < 0 && line.startsWith(ControlCommands.PREFIX)) { // epoll-proxy ctl: one command, one answer
                for (String reply : commands.run(line.substring(ControlCommands.PREFIX.length()), k.peer_uid(ch.fd))) ch.send(reply, -1);
                ch.flush();
                end(null);
                return;
            }
            if (threads < 0) {
                if (!line.startsWith("takeover 1 threads=")) {
                    refuse("expected 'takeover 1 threads=N', got '" + line + "'");
                    return;
                }
                try {
                    threads = Integer.parseInt(line.substring("takeover 1 threads=".length()));
                } catch (NumberFormatException e) {
                    refuse("bad threads in '" + line + "'");
                }
            } else if (!listed && line.startsWith("listen ")) {
                wanted.add(line.substring("listen ".length()));
            } else if (!listed && line.equals("end")) {
                listed = true;
                offer();
            } else if (sent && line.equals("ok")) {
                handedOver = true;
                log.info("control: the listening sockets were taken over; draining");
                end(null);
                ControlServer.this.close();
                onTakenOver.accept("takeover");
            } else {
                refuse("unexpected '" + line + "'");
            }
        }

        /** Both sides must listen on the same addresses with as many loops: else refuse, and serve on. */
        private void offer() {
            if (threads != proxy.loops().size()) {
                refuse("--threads differ: this process runs " + proxy.loops().size() + ", the new one asks for " + threads);
                return;
            }
            sockets = proxy.beginHandOver();
            if (sockets == null) {
                refuse("this process is draining or reloading");
                return;
            }
            Set<String> ours = new LinkedHashSet<>();
            for (Forward f : sockets.keySet()) ours.add(f.key());
            Set<String> onlyNew = new LinkedHashSet<>(wanted);
            onlyNew.removeAll(ours);
            Set<String> onlyOld = new LinkedHashSet<>(ours);
            onlyOld.removeAll(wanted);
            if (!onlyNew.isEmpty() || !onlyOld.isEmpty()) {
                refuse("the forwards differ:" + (onlyNew.isEmpty() ? "" : " only in the new process: " + String.join(", ", onlyNew) + ";")
                        + (onlyOld.isEmpty() ? "" : " only in the running one: " + String.join(", ", onlyOld) + ";"));
                return;
            }
            for (Map.Entry<Forward, int[]> e : sockets.entrySet()) {
                for (int i = 0; i < e.getValue().length; i++) ch.send("fd " + i + " " + e.getKey().key(), e.getValue()[i]);
            }
            ch.send("end", -1);
            sent = true;
            if (!ch.flush()) loop.setInterest(token, Epoll.EPOLLIN | Epoll.EPOLLOUT);
        }

        private void refuse(String why) {
            ch.send("error " + why, -1);
            ch.flush(); // best effort: a few bytes into an empty socket buffer
            end("refused: " + why);
        }

        /** Ends the conversation; {@code why} null: it succeeded. */
        void end(String why) {
            if (current != this) return;
            current = null;
            loop.cancel(this);
            loop.release(token, true);
            ch.close();
            if (sockets != null) proxy.handOverEnded();
            if (why != null) log.error("control: takeover " + why + "; serving on");
        }

        @Override
        public void onFailure(RuntimeException e) {
            end(e.getMessage());
        }
    }

    /** {@code path} in the shim's address layout, for bind/connect; the buffer must live through the call. */
    static NativeBuffer unixAddress(String path) {
        NativeBuffer b = NativeBuffer.allocate(SockAddr.SIZE);
        try {
            SockAddr.unix(path).write(b.buffer(), 0);
        } catch (IllegalArgumentException e) { // too long, empty: said as the other control socket errors are
            throw new IllegalStateException("--control/--takeover " + e.getMessage());
        }
        return b;
    }
}
