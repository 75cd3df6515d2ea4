package org.epollproxy.bench;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/** Blocking client-side socket helpers shared by the JMH benchmarks, the load client and the smoke test. */
public final class Wire {
    /** The request/response size of the ping-pong and connection scenarios. */
    public static final int MESSAGE_SIZE = 64;

    /** A blocking, connected channel to 127.0.0.1:{@code port}, Nagle off (each message is one segment). */
    public static SocketChannel connect(int port) throws IOException {
        SocketChannel ch = SocketChannel.open();
        try {
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            ch.connect(new InetSocketAddress("127.0.0.1", port));
            return ch;
        } catch (IOException e) {
            ch.close();
            throw e;
        }
    }

    /** Writes all of {@code out} (from position 0). */
    public static void writeFully(SocketChannel ch, ByteBuffer out) throws IOException {
        out.clear();
        while (out.hasRemaining()) ch.write(out);
    }

    /** Reads exactly {@code in.capacity()} bytes into {@code in}; EOF before that is an error. */
    public static void readFully(SocketChannel ch, ByteBuffer in) throws IOException {
        in.clear();
        while (in.hasRemaining()) {
            if (ch.read(in) < 0) throw new EOFException("connection closed after " + in.position() + " bytes");
        }
    }

    /** One request/response: {@code out} goes to the echo backend and comes back into {@code in}. */
    public static void roundTrip(SocketChannel ch, ByteBuffer out, ByteBuffer in) throws IOException {
        writeFully(ch, out);
        readFully(ch, in);
    }

    /** A direct buffer of {@code size} bytes with a recognisable pattern. */
    public static ByteBuffer pattern(int size) {
        ByteBuffer b = ByteBuffer.allocateDirect(size);
        for (int i = 0; i < size; i++) b.put((byte) (i * 31 + 7));
        return b.clear();
    }

    private Wire() {}
}
