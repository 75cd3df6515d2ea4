package org.epollproxy.forward.preread;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * What a client's first bytes are, as the routes of a listener ask it: a TLS ClientHello (with its
 * server_name and ALPN offers), an SSLv2-compatible hello (TLS without SNI), an SSH banner
 * ({@code SSH-}), an HTTP/1.x request line (a method and a space), or something else. Like
 * {@link ClientHello}, a function of the bytes so far, answered again after every read: "more" until
 * the prefix decides, and a decision never changes once made (more bytes only confirm it).
 */
public final class FirstBytes {
    /** The protocols a route can ask for. */
    public enum Proto {
        TLS,
        SSH,
        HTTP,
        /** The bytes match none of the above: only a catch-all route or the default route takes them. */
        OTHER
    }

    /**
     * @param proto null while more bytes are needed, or when the client is to be closed ({@code end})
     * @param sni for TLS: the server name, or null
     * @param alpn for TLS: the protocols offered
     * @param end null, or why the client is to be closed: {@code bad-client-hello}, {@code preread-too-long}
     * @param why for an end: in words, for the log line's why= field
     */
    public record Verdict(Proto proto, String sni, List<String> alpn, String end, String why) {
        public static final Verdict MORE = new Verdict(null, null, List.of(), null, null);

        public boolean decided() {
            return proto != null || end != null;
        }
    }

    /** The end reason of a malformed TLS hello, and of a hello or prefix longer than the cap. */
    public static final String BAD_HELLO = "bad-client-hello";
    public static final String TOO_LONG = "preread-too-long";

    /** HTTP/1.x request methods (RFC 9110 §9, PATCH from RFC 5789) that start a request line. */
    private static final byte[][] METHODS = ascii("GET ", "HEAD ", "POST ", "PUT ", "DELETE ", "CONNECT ", "OPTIONS ",
            "TRACE ", "PATCH ");
    private static final byte[] SSH = "SSH-".getBytes(StandardCharsets.US_ASCII);

    /**
     * Classifies {@code b[0, len)}. {@code eof}: the client sent FIN after these bytes, so nothing more is
     * coming: a prefix that is still undecided is then OTHER (a TLS hello cut short is a bad hello).
     * {@code cap}: the most bytes the caller holds; undecided at the cap is {@code preread-too-long}.
     */
    public static Verdict classify(byte[] b, int len, boolean eof, int cap) {
        return new FirstBytes(cap).next(b, len, eof);
    }

    private final int cap;
    /** The ClientHello parse of this client, kept between reads; made at its first TLS byte. */
    private ClientHello.Reader hello;

    /** The classifier of one client, asked again after every read ({@link #next}); {@code cap}: as in {@link #classify}. */
    public FirstBytes(int cap) {
        this.cap = cap;
    }

    /**
     * As {@link #classify} for this client's bytes so far, {@code b[0, len)}: the bytes given at the last call
     * and maybe more. A TLS hello is parsed on from where the last call stopped, so a client trickling a
     * 16 KiB hello byte by byte costs linear work ({@link #work}).
     */
    public Verdict next(byte[] b, int len, boolean eof) {
        if (len == 0) return eof ? other() : Verdict.MORE;
        int first = b[0] & 0xff;
        if (first == ClientHello.CONTENT_HANDSHAKE) {
            if (hello == null) hello = new ClientHello.Reader(cap);
            return tls(hello.next(b, len), len, eof, cap);
        }
        if ((first & 0x80) != 0) {
            Verdict v2 = sslv2(b, len);
            if (v2 != null) return v2.decided() || !eof ? v2 : other();
        }
        if (startsWith(b, len, SSH)) return new Verdict(Proto.SSH, null, List.of(), null, null);
        for (byte[] m : METHODS) if (startsWith(b, len, m)) return new Verdict(Proto.HTTP, null, List.of(), null, null);
        if (eof) return other();
        boolean maybe = isPrefix(b, len, SSH);
        for (byte[] m : METHODS) maybe |= isPrefix(b, len, m);
        if (!maybe) return other();
        return len >= cap ? tooLong(len) : Verdict.MORE;
    }

    /** Bytes of the hello looked at so far (0 for a client that is not TLS): the measure of the parse work. */
    public long work() {
        return hello == null ? 0 : hello.work();
    }

    private static Verdict tls(ClientHello.Result r, int len, boolean eof, int cap) {
        switch (r.kind()) {
            case HELLO:
                return new Verdict(Proto.TLS, r.sni(), r.alpn(), null, null);
            case BAD:
                return new Verdict(null, null, List.of(), BAD_HELLO, r.why());
            case TOO_LONG:
                return new Verdict(null, null, List.of(), TOO_LONG, r.why());
            default:
                if (eof) return new Verdict(null, null, List.of(), BAD_HELLO, "the client closed after " + len + " bytes, before a complete ClientHello");
                return len >= cap ? tooLong(len) : Verdict.MORE;
        }
    }

    /**
     * SSLv2-compatible ClientHello (RFC 5246 appendix E.2): a 2-byte header with the top bit set, message
     * type 1, then the highest version offered (0x0002 SSL 2, 0x03xx SSL 3 / TLS). It carries no
     * extensions, so no SNI: routed as TLS without a name. Null when the bytes are not one.
     */
    private static Verdict sslv2(byte[] b, int len) {
        if (len < 5) {
            if (len >= 3 && (b[2] & 0xff) != 1) return null;
            if (len >= 4 && (b[3] & 0xff) != 0 && (b[3] & 0xff) != 3) return null;
            return Verdict.MORE;
        }
        int recordLen = (b[0] & 0x7f) << 8 | (b[1] & 0xff);
        int major = b[3] & 0xff;
        int minor = b[4] & 0xff;
        if ((b[2] & 0xff) != 1 || recordLen < 9 || !((major == 0 && minor == 2) || (major == 3 && minor <= 4))) return null;
        return new Verdict(Proto.TLS, null, List.of(), null, null);
    }

    private static Verdict other() {
        return new Verdict(Proto.OTHER, null, List.of(), null, null);
    }

    private static Verdict tooLong(int len) {
        return new Verdict(null, null, List.of(), TOO_LONG, "no decision after " + len + " bytes (the pre-read cap)");
    }

    private static boolean startsWith(byte[] b, int len, byte[] p) {
        if (len < p.length) return false;
        for (int i = 0; i < p.length; i++) if (b[i] != p[i]) return false;
        return true;
    }

    /** {@code b[0, len)} is shorter than {@code p} and a prefix of it. */
    private static boolean isPrefix(byte[] b, int len, byte[] p) {
        if (len >= p.length) return false;
        for (int i = 0; i < len; i++) if (b[i] != p[i]) return false;
        return true;
    }

    private static byte[][] ascii(String... s) {
        byte[][] out = new byte[s.length][];
        for (int i = 0; i < s.length; i++) out[i] = s[i].getBytes(StandardCharsets.US_ASCII);
        return out;
    }
}
