package org.epollproxy.bench.fwd;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import org.epollproxy.bench.SelectorServer;

/**
 * The reference java.nio forwarder: one Selector thread with the same rules as the project's
 * {@code Pair}, so the comparison measures the event machinery, not a different algorithm.
 *
 * <ul>
 *   <li>Per direction one pooled direct buffer, taken only while bytes are in flight: read X only when
 *       X's direction is empty, write to the peer at once, give the buffer back when all went.
 *   <li>A partial write keeps the rest, sets OP_WRITE on the peer and drops OP_READ on X; interest
 *       ops are cached per side and set only when they change.
 *   <li>Half-close: EOF from X becomes shutdownOutput() on the peer once X's direction drained; the
 *       pair closes when both directions passed their FIN on. An I/O error closes both with an RST.
 *   <li>The backend connect is non-blocking (OP_CONNECT); bytes the client sends meanwhile wait.
 * </ul>
 */
final class NioForwarder extends SelectorServer implements BenchForwarder {
    private static final int ACCEPTS_PER_WAKEUP = 64;

    private final InetSocketAddress backendAddress;
    private final ArrayDeque<ByteBuffer> pool = new ArrayDeque<>();

    NioForwarder(int backendPort) {
        super(0, 1024, "nio-forwarder");
        backendAddress = new InetSocketAddress("127.0.0.1", backendPort);
        start();
    }

    @Override
    protected void onAccept() throws IOException {
        for (int i = 0; i < ACCEPTS_PER_WAKEUP; i++) {
            SocketChannel c = server.accept();
            if (c == null) return;
            new Pair(c);
        }
    }

    @Override
    protected void onReady(SelectionKey key) {
        Side s = (Side) key.attachment();
        s.pair.onReady(s, key.readyOps());
    }

    private ByteBuffer take() {
        ByteBuffer b = pool.pollLast();
        return b != null ? b : ByteBuffer.allocateDirect(BUFFER_SIZE);
    }

    private void give(ByteBuffer b) {
        b.clear();
        if (pool.size() < 256) pool.addLast(b);
    }

    /** One socket of a pair and its cached interest ops. */
    private static final class Side {
        final Pair pair;
        SocketChannel ch;
        SelectionKey key;
        int ops;
        Direction in;
        Direction out;

        Side(Pair pair) {
            this.pair = pair;
        }
    }

    /** Bytes read from {@code from}, not yet written to {@code to} (buffer flipped for writing). */
    private static final class Direction {
        final Side from;
        final Side to;
        ByteBuffer buf;
        boolean eof;
        boolean finSent;

        Direction(Side from, Side to) {
            this.from = from;
            this.to = to;
        }

        boolean pending() {
            return buf != null;
        }

        boolean wantsRead() {
            return !eof && buf == null;
        }
    }

    private final class Pair {
        final Side client = new Side(this);
        final Side backend = new Side(this);
        final Direction up = new Direction(client, backend);
        final Direction down = new Direction(backend, client);
        boolean connecting;
        boolean closed;

        Pair(SocketChannel c) throws IOException {
            client.ch = c;
            client.in = up;
            client.out = down;
            backend.in = down;
            backend.out = up;
            try {
                c.configureBlocking(false);
                c.setOption(StandardSocketOptions.TCP_NODELAY, true);
                client.key = c.register(selector, 0, client);
                SocketChannel b = SocketChannel.open();
                backend.ch = b;
                b.configureBlocking(false);
                b.setOption(StandardSocketOptions.TCP_NODELAY, true);
                backend.key = b.register(selector, 0, backend);
                connecting = !b.connect(backendAddress);
                updateInterest();
            } catch (IOException e) {
                abort(null);
            }
        }

        void onReady(Side s, int ready) {
            if (closed) return;
            try {
                if (s == backend && connecting) {
                    if (!backend.ch.finishConnect()) return;
                    connecting = false;
                    if (up.pending() && !flush(up)) return;
                    if (up.eof && !up.finSent) sendFin(up);
                } else {
                    if ((ready & SelectionKey.OP_WRITE) != 0 && s.out.pending() && !flush(s.out)) return;
                    if ((ready & SelectionKey.OP_READ) != 0 && s.in.wantsRead()) read(s.in);
                }
                if (up.finSent && down.finSent) {
                    close();
                    return;
                }
                updateInterest();
            } catch (IOException e) {
                abort(s);
            }
        }

        /** One read from d.from and an immediate write to d.to. */
        private void read(Direction d) throws IOException {
            ByteBuffer b = take();
            int n = d.from.ch.read(b);
            if (n > 0) {
                b.flip();
                d.buf = b;
                if (!(d.to == backend && connecting)) flush(d);
                return;
            }
            give(b);
            if (n < 0) {
                d.eof = true;
                if (!(d.to == backend && connecting)) sendFin(d);
            }
        }

        /** Writes what d holds; true when it all went (then FIN follows if d.from sent one). */
        private boolean flush(Direction d) throws IOException {
            d.to.ch.write(d.buf);
            if (d.buf.hasRemaining()) return true; // socket full: OP_WRITE on d.to, stop reading d.from
            give(d.buf);
            d.buf = null;
            if (d.eof && !d.finSent) sendFin(d);
            return true;
        }

        private void sendFin(Direction d) throws IOException {
            d.finSent = true;
            d.to.ch.shutdownOutput();
        }

        private int opsFor(Side s) {
            if (s == backend && connecting) return SelectionKey.OP_CONNECT;
            int ops = 0;
            if (s.in.wantsRead()) ops |= SelectionKey.OP_READ;
            if (s.out.pending()) ops |= SelectionKey.OP_WRITE;
            return ops;
        }

        private void updateInterest() {
            setOps(client, opsFor(client));
            setOps(backend, opsFor(backend));
        }

        private void setOps(Side s, int ops) {
            if (s.ops != ops) {
                s.key.interestOps(ops);
                s.ops = ops;
            }
        }

        /** An I/O error on {@code failed}: reset the other side (SO_LINGER 0) so the error shows, close both. */
        private void abort(Side failed) {
            Side other = failed == client ? backend : client;
            if (failed != null && other.ch != null && other.ch.isOpen()) {
                try {
                    other.ch.setOption(StandardSocketOptions.SO_LINGER, 0);
                } catch (IOException ignored) {
                    // already gone
                }
            }
            close();
        }

        private void close() {
            if (closed) return;
            closed = true;
            if (up.buf != null) give(up.buf);
            if (down.buf != null) give(down.buf);
            up.buf = down.buf = null;
            if (client.ch != null) closeQuietly(client.ch);
            if (backend.ch != null) closeQuietly(backend.ch);
        }
    }
}
