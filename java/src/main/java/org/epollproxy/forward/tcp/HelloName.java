package org.epollproxy.forward.tcp;

import java.util.function.Consumer;
import org.epollproxy.forward.preread.ClientHello;
import org.epollproxy.forward.tls.TlsChannel;
import org.epollproxy.shim.NativeMemory;

/**
 * The host name a client's ClientHello asks for (server_name), read from the bytes its {@link TlsChannel}
 * receives, before the engine reads them ({@link TlsChannel#watchHello}; for the key manager, see
 * TlsServer#nameAsked): a copy of the hello's bytes as they come (a hello may span
 * records and reads) and {@link ClientHello}'s parse of them. Said once, to the consumer given; nothing if
 * the client asks for no name or the bytes are no ClientHello (the engine then says why). Bounded: a hello
 * longer than the channel's buffer is not read.
 */
final class HelloName implements TlsChannel.HelloWatch {
    private final ClientHello.Reader reader;
    private final Consumer<String> to;
    private byte[] bytes = new byte[512];
    private int len;
    /** Bytes at the start of the channel's unread bytes that are already in {@code bytes}. */
    private int copied;

    HelloName(int cap, Consumer<String> to) {
        this.reader = new ClientHello.Reader(cap);
        this.to = to;
    }

    /** {@code [in, in+inLen)}: the channel's unread bytes. Takes the new ones; true once the hello is read (said or not). */
    @Override
    public boolean read(long in, int inLen) {
        int n = inLen - copied;
        if (n <= 0) return false;
        if (len + n > bytes.length) bytes = java.util.Arrays.copyOf(bytes, Math.max(len + n, 2 * bytes.length));
        NativeMemory.get(in + copied, bytes, len, n);
        len += n;
        copied = inLen;
        ClientHello.Result r = reader.next(bytes, len);
        if (r.kind() == ClientHello.Kind.MORE) return false;
        if (r.kind() == ClientHello.Kind.HELLO && r.sni() != null) to.accept(r.sni());
        bytes = null;
        return true;
    }

    /** The engine took {@code used} bytes from the start of the channel's unread bytes. */
    @Override
    public void consumed(int used) {
        copied = Math.max(0, copied - used);
    }
}
