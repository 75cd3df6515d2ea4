package org.epollproxy.forward.tcp;

import java.util.Objects;
import java.util.function.Consumer;
import javax.net.ssl.SSLException;
import org.epollproxy.forward.preread.ClientHello;
import org.epollproxy.forward.tls.TlsChannel;
import org.epollproxy.shim.NativeMemory;

/**
 * The host name a client's ClientHello asks for (server_name), read from the bytes its {@link TlsChannel}
 * receives, before the engine reads them ({@link TlsChannel#watchHello}; for the key manager, see
 * TlsServer#nameAsked): a copy of the hello's bytes as they come (a hello may span
 * records and reads) and {@link ClientHello}'s parse of them. Said once, to the consumer given; nothing if
 * the client asks for no name or the bytes are no ClientHello (the engine then says why).
 *
 * <p>Then the records that follow, until one shows the handshake went on without a second hello: a TLS 1.3
 * client sends a second ClientHello after a HelloRetryRequest, and RFC 8446 §4.1.2 forbids it to change its
 * server_name or ALPN offer. The JDK's engine does not check that, and would choose the certificate, the
 * session's name and the protocol by the second hello, while the route (and the name said here) came from
 * the first. A second hello asking for another name, or offering other protocols, is refused before the
 * engine reads it. Bounded: at most {@code cap} bytes are held (a
 * hello longer than the channel's buffer is not read).
 */
final class HelloName implements TlsChannel.HelloWatch {
    /** TLS record types (RFC 8446 §5.1) and the handshake type of a ClientHello. */
    private static final int CHANGE_CIPHER_SPEC = 20;
    private static final int HANDSHAKE = 22;
    private static final int CLIENT_HELLO = 1;
    private static final int RECORD_HEADER = 5;

    private final int cap;
    private final Consumer<String> to;
    /** The parse of the hello being read: the first, then a second one if it comes; null between them. */
    private ClientHello.Reader reader;
    /** The client's bytes from the start of the hello being read (after the first: from its next record on). */
    private byte[] bytes = new byte[512];
    private int len;
    /** Bytes at the start of the channel's unread bytes that are already in {@code bytes}. */
    private int copied;
    /** The first hello has been read: what follows is watched for a second one. */
    private boolean afterFirst;
    private String firstName;
    private java.util.List<String> firstAlpn;
    /** After the first hello: bytes of its last record still to come and be dropped. */
    private int skip;

    HelloName(int cap, Consumer<String> to) {
        this.cap = cap;
        this.reader = new ClientHello.Reader(cap);
        this.to = to;
    }

    /**
     * {@code [in, in+inLen)}: the channel's unread bytes. Takes the new ones; true once there is nothing more to
     * watch. An SSLException for a second hello that asks for another name than the first.
     */
    @Override
    public boolean read(long in, int inLen) throws SSLException {
        int n = inLen - copied;
        if (n <= 0) return false;
        if (len + n > cap) return stop(); // more than a buffer of hello (or of records after it): not ours to hold
        if (len + n > bytes.length) bytes = java.util.Arrays.copyOf(bytes, Math.min(cap, Math.max(len + n, 2 * bytes.length)));
        NativeMemory.get(in + copied, bytes, len, n);
        len += n;
        copied = inLen;
        if (!afterFirst) {
            ClientHello.Result r = reader.next(bytes, len);
            if (r.kind() == ClientHello.Kind.MORE) return false;
            if (r.kind() != ClientHello.Kind.HELLO) return stop();
            if (r.sni() != null) to.accept(r.sni());
            afterFirst = true;
            firstName = r.sni();
            firstAlpn = r.alpn();
            skip = reader.end();
            reader = null;
        }
        return watchAfterFirst();
    }

    /** The records after the first hello: change_cipher_spec is skipped; a second ClientHello is read and checked. */
    private boolean watchAfterFirst() throws SSLException {
        while (true) {
            if (skip > 0) {
                int d = Math.min(skip, len);
                drop(d);
                skip -= d;
                if (skip > 0) return false;
            }
            if (reader != null) {
                ClientHello.Result r = reader.next(bytes, len);
                if (r.kind() == ClientHello.Kind.MORE) return false;
                if (r.kind() == ClientHello.Kind.HELLO && !Objects.equals(r.sni(), firstName)) {
                    throw new SSLException("the second ClientHello asks for " + named(r.sni()) + ", the first asked for " + named(firstName));
                }
                if (r.kind() == ClientHello.Kind.HELLO && !r.alpn().equals(firstAlpn)) { // routes match ALPN too
                    throw new SSLException("the second ClientHello offers ALPN " + r.alpn() + ", the first offered " + firstAlpn);
                }
                return stop(); // the same name, or a malformed hello the engine will refuse itself
            }
            if (len < RECORD_HEADER) return false;
            int type = bytes[0] & 0xff;
            if (type == CHANGE_CIPHER_SPEC) {
                skip = RECORD_HEADER + ((bytes[3] & 0xff) << 8 | (bytes[4] & 0xff));
                continue;
            }
            if (type != HANDSHAKE) return stop(); // encrypted records: the handshake went on without a retry
            if (len < RECORD_HEADER + 1) return false;
            if ((bytes[RECORD_HEADER] & 0xff) != CLIENT_HELLO) return stop(); // TLS 1.2's next flight
            reader = new ClientHello.Reader(cap);
        }
    }

    private static String named(String sni) {
        return sni == null ? "no name" : sni;
    }

    /** Forgets the first {@code n} bytes held. */
    private void drop(int n) {
        System.arraycopy(bytes, n, bytes, 0, len - n);
        len -= n;
    }

    private boolean stop() {
        bytes = null;
        return true;
    }

    /** The engine took {@code used} bytes from the start of the channel's unread bytes. */
    @Override
    public void consumed(int used) {
        copied = Math.max(0, copied - used);
    }
}
