package org.epollproxy.bench;

import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * The backend of every benchmark: echoes each byte back on the same connection, and closes its side
 * when the client's FIN arrives and everything was echoed.
 *
 * <p>One Selector thread. Reads go into one shared 64 KiB buffer and are written back at once; only a
 * partial write keeps the rest in a per-connection buffer (and stops reading that connection until it
 * drains), so thousands of idle connections cost no buffer memory and a fast client never waits for
 * a copy. Run as a process with {@code java -cp benchmarks.jar org.epollproxy.bench.EchoServer PORT}.
 */
public final class EchoServer extends SelectorServer {
    private static final int BUFFER_SIZE = 64 * 1024;

    private final ByteBuffer shared = ByteBuffer.allocateDirect(BUFFER_SIZE);

    /** Per connection: the bytes a write left behind (null when none; reading waits until they went). */
    private static final class Conn {
        ByteBuffer rest;
    }

    public EchoServer(int port) {
        super(port, 4096, "echo-server");
        start();
    }

    @Override
    protected void onAccept() throws IOException {
        SocketChannel c;
        while ((c = server.accept()) != null) {
            c.configureBlocking(false);
            c.setOption(StandardSocketOptions.TCP_NODELAY, true);
            c.register(selector, SelectionKey.OP_READ, new Conn());
        }
    }

    @Override
    protected void onReady(SelectionKey key) {
        SocketChannel c = (SocketChannel) key.channel();
        Conn conn = (Conn) key.attachment();
        try {
            if (conn.rest != null) {
                c.write(conn.rest);
                if (conn.rest.hasRemaining()) return;
                conn.rest = null;
                key.interestOps(SelectionKey.OP_READ);
                return;
            }
            shared.clear();
            int n = c.read(shared);
            if (n < 0) {
                c.close();
                return;
            }
            if (n == 0) return;
            shared.flip();
            c.write(shared);
            if (shared.hasRemaining()) {
                conn.rest = ByteBuffer.allocate(shared.remaining()).put(shared).flip();
                key.interestOps(SelectionKey.OP_WRITE);
            }
        } catch (IOException e) {
            try {
                c.close();
            } catch (IOException ignored) {
                // already reset
            }
        }
    }

    /** Serves on 127.0.0.1:PORT until killed; prints "echo PORT" once listening. */
    public static void main(String[] args) throws InterruptedException {
        EchoServer s = new EchoServer(args.length > 0 ? Integer.parseInt(args[0]) : 0);
        System.out.println("echo " + s.port());
        System.out.flush();
        s.join();
    }
}
