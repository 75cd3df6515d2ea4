package org.epollproxy.runtime;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.Log;
import org.epollproxy.forward.SocketFile;
import org.epollproxy.forward.UnixSockets;
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
 * drains. It accepts peers with our uid only (SO_PEERCRED), at most {@link #MAX_PEERS} at once, each with
 * its own deadline ({@link #DEADLINE_MS}), so stalled peers cannot hold the door shut: when all places are
 * taken, the peer idle longest (silent, or stalled after a line or two) makes room for the new one; only
 * the session the sockets are being offered to is never evicted. One takeover at a time, bounded lines
 * ({@link ControlChannel}); what a peer sent is logged escaped and truncated. The socket file is made and
 * removed by {@link SocketFile}, with the same checks as a {@code -L} UNIX listener's. The protocol is in
 * {@link Takeover}.
 */
public final class ControlServer implements Handler {
    static final long DEADLINE_MS = 10_000;
    /** Peers served at once: a takeover needs one; the rest is room for impatient operators and tools. */
    static final int MAX_PEERS = 8;
    private static final int MODE = 0600;
    private static final int BACKLOG = 4;

    private final Kernel k;
    private final Path path;
    private final int fd;
    private final SocketFile file;
    private EventLoop loop;
    private long token;
    private ProxyServer proxy;
    private Consumer<String> onTakenOver;
    private Log log;
    private ControlCommands commands;
    /** The conversations open now, oldest first. */
    private final List<Session> sessions = new ArrayList<>();
    /** The one session the listening sockets were offered to, if any. */
    private Session offering;
    private boolean closed;
    private boolean handedOver;

    private ControlServer(Kernel k, Path path, int fd, SocketFile file) {
        this.k = k;
        this.path = path;
        this.fd = fd;
        this.file = file;
    }

    /**
     * Binds {@code path} as {@code -L} UNIX listeners are bound ({@link SocketFile}): a socket there that
     * nobody listens on is stale and replaced; one a process listens on is refused (that process is running:
     * take it over) unless {@code replace} (we just took it over); any other file is refused.
     */
    public static ControlServer bind(Kernel k, Path path, boolean replace) {
        String p = path.toString();
        unixAddress(p); // too long or empty: said as the other control socket errors are
        int s = k.socket(Net.AF_UNIX, Net.SOCK_STREAM | Net.SOCK_NONBLOCK | Net.SOCK_CLOEXEC, 0);
        if (s < 0) throw new SyscallException("socket AF_UNIX for --control " + path, s);
        try {
            SocketFile f = SocketFile.bindAndListen(k, s, p, MODE, BACKLOG, replace, "--control " + p,
                    "a running process listens there; start with --takeover " + p + " to replace it");
            return new ControlServer(k, path, s, f);
        } catch (RuntimeException e) {
            k.close(s);
            throw e;
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

    /** At exit: removes the file if it is still ours and no successor owns the path now. */
    public void removeFile() {
        if (!handedOver) file.remove();
    }

    /** Stops listening (on the loop's thread); removes the file if it is still ours and no successor owns it. */
    public void close() {
        if (closed) return;
        closed = true;
        for (Session s : List.copyOf(sessions)) s.end(null);
        if (loop != null) loop.release(token, true); // null: never started (a start that failed)
        removeFile(); // before close: our socket still holds the inode, so its number is not anyone else's yet
        k.close(fd);
        if (log != null) log.flush();
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
                continue;
            }
            if (sessions.size() >= MAX_PEERS && !makeRoom()) {
                ControlChannel busy = new ControlChannel(k, c, false);
                busy.send("error " + MAX_PEERS + " control connections are open already", -1);
                busy.flush();
                busy.close();
                log.error("control " + path + ": refused a connection: " + MAX_PEERS + " are open already, none of them evictable");
                continue;
            }
            sessions.add(new Session(new ControlChannel(k, c, false)));
        }
    }

    /**
     * Ends the session idle longest (the oldest first among equals), but never the one the sockets are
     * offered to: peers that sent a line and stalled would otherwise keep a takeover out for their whole
     * deadline. A peer doing its work is not idle long (a takeover or a ctl command takes milliseconds).
     * False if none can go.
     */
    private boolean makeRoom() {
        Session idlest = null;
        for (Session s : sessions) if (s != offering && (idlest == null || s.lastActive - idlest.lastActive < 0)) idlest = s;
        if (idlest == null) return false;
        idlest.end("ended: " + (idlest.heard ? "the peer stalled" : "the peer had sent nothing") + " for "
                + (loop.now() - idlest.lastActive) / 1_000_000 + " ms, and another one needed its place");
        return true;
    }

    @Override
    public void onFailure(RuntimeException e) {
        log.error("control " + path + ": " + e);
    }

    /** One peer's conversation: a takeover, or one ctl command and its reply. */
    private final class Session extends Timer implements Handler {
        final ControlChannel ch;
        final long token;
        int threads = -1;
        final List<String> wanted = new ArrayList<>();
        boolean listed; // "end" of the list came
        boolean sent; // the sockets went
        boolean heard; // a whole line came: not a silent peer
        /** A ctl command was run: its reply is being sent, and the session ends once all of it went. */
        boolean answered;
        /** When the peer last sent a line (or connected): the idle longest makes room when all places are taken. */
        long lastActive = loop.now();
        boolean ended;
        Map<Forward, int[]> sockets;

        Session(ControlChannel ch) {
            this.ch = ch;
            this.token = loop.register(ch.fd, this);
            loop.setInterest(token, Epoll.EPOLLIN);
            loop.schedule(this, loop.now() + DEADLINE_MS * 1_000_000L);
        }

        @Override
        protected void onTimer(long now) {
            end("ended: no answer within " + DEADLINE_MS + " ms");
        }

        @Override
        public void onEvent(int events) {
            if (answered) { // the rest of a reply that did not fit the socket buffer; the peer's input no longer matters
                if ((events & (Epoll.EPOLLERR | Epoll.EPOLLHUP)) != 0) {
                    end("ended: the peer hung up before the whole reply"); // else its hangup, always reported, would spin the loop
                } else if ((events & Epoll.EPOLLOUT) != 0 && ch.flush()) {
                    end(null);
                }
                return;
            }
            if ((events & Epoll.EPOLLOUT) != 0 && ch.flush()) loop.setInterest(token, Epoll.EPOLLIN);
            int rc = ch.read();
            if (rc < 0) {
                end("ended: read: " + Errno.describe(rc));
                return;
            }
            for (String line; !ended && !answered && (line = ch.nextLine()) != null; ) {
                heard = true;
                lastActive = loop.now();
                handle(line);
            }
            if (!ended && !answered && ch.eof()) end(sent ? "ended: the new process hung up before it confirmed" : threads >= 0 ? "ended: the new process hung up" : "ended: the peer hung up");
        }

        private void handle(String line) {
            if (threads < 0 && line.startsWith(ControlCommands.PREFIX)) { // epoll-proxy ctl: one command, one answer
                for (String reply : commands.run(line.substring(ControlCommands.PREFIX.length()), k.peer_uid(ch.fd))) ch.send(reply, -1);
                answered = true;
                // A long reply ('backends' of many forwards) fills the socket buffer before the peer reads: the
                // rest goes as the peer reads (EPOLLOUT), within the session's deadline; closing now would cut it.
                if (ch.flush()) end(null);
                else loop.setInterest(token, Epoll.EPOLLOUT);
                return;
            }
            if (threads < 0) {
                if (!line.startsWith("takeover 1 threads=")) {
                    refuse("expected 'takeover 1 threads=N' or a ctl command, got '" + ControlChannel.printable(line) + "'");
                    return;
                }
                try {
                    threads = Integer.parseInt(line.substring("takeover 1 threads=".length()));
                } catch (NumberFormatException e) {
                    refuse("bad threads in '" + ControlChannel.printable(line) + "'");
                }
            } else if (!listed && line.startsWith("listen ")) {
                wanted.add(line.substring("listen ".length()));
            } else if (!listed && line.equals("end")) {
                listed = true;
                offer();
            } else if (sent && line.equals("ok")) {
                handedOver = true;
                file.handOver();
                for (Forward f : sockets.keySet()) if (f.bind().isUnix()) UnixSockets.handOver(f.bind().path());
                int pid = k.peer_pid(ch.fd);
                log.info("control: the listening sockets were taken over" + (pid > 0 ? " by pid " + pid : "") + "; draining");
                end(null);
                ControlServer.this.close();
                onTakenOver.accept("takeover");
            } else {
                refuse("unexpected '" + ControlChannel.printable(line) + "'");
            }
        }

        /** Both sides must listen on the same addresses with as many loops: else refuse, and serve on. */
        private void offer() {
            if (threads != proxy.loops().size()) {
                refuse("--threads differ: this process runs " + proxy.loops().size() + ", the new one asks for " + threads);
                return;
            }
            if (offering != null) {
                refuse("a takeover is already in progress");
                return;
            }
            sockets = proxy.beginHandOver();
            if (sockets == null) {
                refuse("this process is draining or reloading");
                return;
            }
            offering = this;
            Set<String> ours = new LinkedHashSet<>();
            for (Forward f : sockets.keySet()) ours.add(f.key());
            Set<String> onlyNew = new LinkedHashSet<>(wanted);
            onlyNew.removeAll(ours);
            Set<String> onlyOld = new LinkedHashSet<>(ours);
            onlyOld.removeAll(wanted);
            if (!onlyNew.isEmpty() || !onlyOld.isEmpty()) {
                List<String> differences = new ArrayList<>(2);
                if (!onlyNew.isEmpty()) differences.add("only in the new process: " + String.join(", ", onlyNew));
                if (!onlyOld.isEmpty()) differences.add("only in the running one: " + String.join(", ", onlyOld));
                refuse("the forwards differ: " + String.join("; ", differences));
                return;
            }
            for (Map.Entry<Forward, int[]> e : sockets.entrySet()) {
                for (int i = 0; i < e.getValue().length; i++) {
                    // A UNIX listener is one socket, on loop 0: the other loops have none to send.
                    if (e.getValue()[i] >= 0) ch.send("fd " + i + " " + e.getKey().key(), e.getValue()[i]);
                }
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

        /** Ends the conversation; {@code why} ("ended: ...", "refused: ...") null: it succeeded. */
        void end(String why) {
            if (ended) return;
            ended = true;
            sessions.remove(this);
            if (offering == this) offering = null;
            loop.cancel(this);
            loop.release(token, true);
            ch.close();
            // Handed over: no reload from here on (this process only drains, the drain from loop 0).
            if (sockets != null && !handedOver) proxy.handOverEnded();
            // Only a peer that asked for the sockets was a takeover: a silent or garbled connection, or a ctl
            // command, ending early says so as a connection, not as a takeover the process survived.
            if (why != null && threads >= 0) log.error("control: takeover " + why + "; serving on");
            else if (why != null) log.error("control " + path + ": " + (answered ? "a ctl reply " : "a connection ") + why);
        }

        @Override
        public void onFailure(RuntimeException e) {
            end("ended: " + e.getMessage());
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
