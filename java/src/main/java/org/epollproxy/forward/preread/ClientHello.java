package org.epollproxy.forward.preread;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads the server_name and ALPN offers out of the first bytes of a TLS connection (RFC 8446 §4.1.2,
 * RFC 6066 §3, RFC 7301), without terminating anything. A function of the bytes received so far: a
 * {@link Reader} is given the longer prefix after every read and looks only at what is new, so a hello
 * arriving one byte at a time, or split over several TLS records and many segments, gives the same answer
 * as one in a piece, at linear cost ({@link #parse}: the same for a prefix seen once).
 *
 * <p>Every length is checked against the length that encloses it (record, handshake message, extension
 * block, extension, list); the first that does not fit ends the parse with {@link Kind#BAD} and a reason.
 * Nothing is allocated beyond one copy of the handshake bytes (never more than the bytes given), so the
 * memory is bounded by the pre-read cap of the caller. Unknown extensions and GREASE values (RFC 8701) are
 * skipped; with Encrypted Client Hello the outer hello's server_name (the public name) is what is read.
 * Two extensions of one type, or two host names in server_name, are refused: a backend that reads the
 * other one would be reached under a name the route never checked.
 */
public final class ClientHello {
    /** TLS record content type of a handshake (RFC 8446 §5.1). */
    static final int CONTENT_HANDSHAKE = 22;
    /** Handshake type of a ClientHello. */
    static final int CLIENT_HELLO = 1;
    /** A TLSPlaintext record holds at most 2^14 bytes. */
    static final int MAX_RECORD = 1 << 14;
    static final int EXT_SERVER_NAME = 0;
    static final int EXT_ALPN = 16;
    /** A DNS name is at most 253 characters (255 octets on the wire). */
    static final int MAX_HOST_NAME = 253;

    /** What the bytes so far say. */
    public enum Kind {
        /** A ClientHello so far: more bytes are needed. */
        MORE,
        /** A complete ClientHello ({@link Result#sni()}, {@link Result#alpn()}). */
        HELLO,
        /** Not a well-formed ClientHello ({@link Result#why()}). */
        BAD,
        /** The hello announces more bytes than the cap allows. */
        TOO_LONG
    }

    /**
     * @param sni the host name asked for, lower case, without a trailing dot; null if none was sent
     * @param alpn the protocols offered, in the client's order (empty if none)
     * @param why for BAD and TOO_LONG: what was wrong, in words
     */
    public record Result(Kind kind, String sni, List<String> alpn, String why) {
        static final Result MORE = new Result(Kind.MORE, null, List.of(), null);

        static Result bad(String why) {
            return new Result(Kind.BAD, null, List.of(), why);
        }
    }

    /** Thrown inside the parse when a length does not fit; caught in {@link #parse}. */
    private static final class Bad extends Exception {
        Bad(String why) {
            super(why, null, false, false);
        }
    }

    /**
     * Parses {@code b[0, len)}, which starts with a TLS record header (first byte 22). {@code cap} is the
     * most bytes the caller will ever hold: a hello that needs more is {@link Kind#TOO_LONG} at once.
     */
    public static Result parse(byte[] b, int len, int cap) {
        return new Reader(cap).next(b, len);
    }

    /**
     * The parse of one client's growing prefix, kept between reads: each call looks at the bytes that are new
     * since the last (the handshake bytes reassembled so far, where the current record stands), so a hello
     * trickled one byte at a time costs work linear in its length, not quadratic. The complete message is
     * parsed once. Once the answer is not {@link Kind#MORE} it stays (more bytes only confirm it).
     */
    public static final class Reader {
        private final int cap;
        /** Handshake bytes reassembled from the records so far (grows by doubling, to at most what came). */
        private byte[] hs = new byte[0];
        private int hsLen;
        /** Offset of the current record's header in the client's bytes, and its payload bytes taken so far. */
        private int at;
        private int taken;
        /** Handshake bytes the ClientHello needs in all, once its header is known; -1 before. */
        private int needed = -1;
        private Result done;
        /** Once the answer is HELLO: the offset, in the client's bytes, just past the record that completed it. */
        private int end = -1;
        /** Bytes looked at so far (reassembled, and parsed once complete): the measure of the work done. */
        private long work;

        public Reader(int cap) {
            this.cap = cap;
        }

        public long work() {
            return work;
        }

        /** After a {@link Kind#HELLO}: where the records of the hello end in the client's bytes (what follows is the client's next record); -1 before. */
        public int end() {
            return end;
        }

        /**
         * The answer for {@code b[0, len)}: the same client's bytes as at the last call, and maybe more
         * ({@code b} may be another array holding them, {@code len} is never smaller).
         */
        public Result next(byte[] b, int len) {
            if (done != null) return done;
            Result r = advance(b, len);
            if (r.kind() != Kind.MORE) done = r;
            return r;
        }

        private Result advance(byte[] b, int len) {
            while (at + 5 <= len) {
                if ((b[at] & 0xff) != CONTENT_HANDSHAKE) {
                    return Result.bad("record of content type " + (b[at] & 0xff) + " before the ClientHello was complete");
                }
                if ((b[at + 1] & 0xff) != 3 || (b[at + 2] & 0xff) > 4) {
                    return Result.bad(String.format(Locale.ROOT, "record version 0x%02x%02x is not TLS", b[at + 1] & 0xff, b[at + 2] & 0xff));
                }
                int rl = u16(b, at + 3);
                if (rl == 0) return Result.bad("empty handshake record");
                if (rl > MAX_RECORD) return Result.bad("record length " + rl + " over 2^14");
                int have = Math.min(rl, len - at - 5);
                if (have > taken) {
                    if (hsLen + have - taken > hs.length) hs = java.util.Arrays.copyOf(hs, Math.min(len, Math.max(hsLen + have - taken, 2 * hs.length)));
                    System.arraycopy(b, at + 5 + taken, hs, hsLen, have - taken);
                    hsLen += have - taken;
                    work += have - taken;
                    taken = have;
                }
                if (needed < 0 && hsLen >= 4) {
                    if ((hs[0] & 0xff) != CLIENT_HELLO) return Result.bad("handshake message type " + (hs[0] & 0xff) + ", not a ClientHello");
                    int body = u24(hs, 1);
                    // Record headers come on top of the message: one per 2^14 bytes at least.
                    long total = 4L + body + 5L * ((4L + body + MAX_RECORD - 1) / MAX_RECORD);
                    if (total > cap) {
                        return new Result(Kind.TOO_LONG, null, List.of(), "ClientHello of " + body + " bytes over the pre-read cap of " + cap);
                    }
                    needed = 4 + body;
                }
                if (needed >= 0 && hsLen >= needed) {
                    work += needed;
                    end = at + 5 + rl;
                    return hello(hs, needed);
                }
                if (have < rl) return Result.MORE; // the rest of this record has not come yet
                at += 5 + rl;
                taken = 0;
            }
            if (at < len && (b[at] & 0xff) != CONTENT_HANDSHAKE) {
                return Result.bad("record of content type " + (b[at] & 0xff) + " before the ClientHello was complete");
            }
            return Result.MORE;
        }
    }

    /** The complete ClientHello message {@code hs[0, end)}: header, then body. */
    private static Result hello(byte[] hs, int end) {
        try {
            Cursor c = new Cursor(hs, 4, end);
            c.skip(2, "legacy_version");
            c.skip(32, "random");
            int sid = c.u8("session id length");
            if (sid > 32) throw new Bad("session id of " + sid + " bytes (at most 32)");
            c.skip(sid, "session id");
            int suites = c.u16("cipher suites length");
            if (suites < 2 || suites % 2 != 0) throw new Bad("cipher suites length " + suites + " (even, 2 or more)");
            c.skip(suites, "cipher suites");
            int comp = c.u8("compression methods length");
            if (comp < 1) throw new Bad("no compression method");
            c.skip(comp, "compression methods");
            if (c.left() == 0) return new Result(Kind.HELLO, null, List.of(), null); // no extensions at all
            int extLen = c.u16("extensions length");
            if (extLen != c.left()) throw new Bad("extensions length " + extLen + " but " + c.left() + " bytes follow");
            String sni = null;
            List<String> alpn = List.of();
            java.util.BitSet seen = new java.util.BitSet();
            while (c.left() > 0) {
                int type = c.u16("extension type");
                int len = c.u16("extension length");
                Cursor e = c.sub(len, "extension " + type);
                if (seen.get(type)) throw new Bad("extension " + type + " appears twice");
                seen.set(type);
                if (type == EXT_SERVER_NAME) sni = serverName(e);
                else if (type == EXT_ALPN) alpn = alpn(e);
            }
            return new Result(Kind.HELLO, sni, alpn, null);
        } catch (Bad e) {
            return Result.bad(e.getMessage());
        }
    }

    /** server_name: a list of (type, name); one host_name (type 0) at most. Null for an empty extension (a server's echo form). */
    private static String serverName(Cursor e) throws Bad {
        if (e.left() == 0) return null;
        int listLen = e.u16("server_name list length");
        Cursor list = e.sub(listLen, "server_name list");
        if (e.left() != 0) throw new Bad("server_name list length " + listLen + " leaves " + e.left() + " bytes over");
        String host = null;
        while (list.left() > 0) {
            int type = list.u8("server name type");
            int n = list.u16("server name length");
            Cursor name = list.sub(n, "server name");
            if (type != 0) continue;
            if (host != null) throw new Bad("two host names in server_name");
            host = hostName(name);
        }
        return host;
    }

    /** A host name as a router compares it: LDH labels (and '_'), lower case, no trailing dot. */
    private static String hostName(Cursor name) throws Bad {
        int n = name.left();
        if (n == 0) throw new Bad("empty host name in server_name");
        if (n > MAX_HOST_NAME + 1) throw new Bad("host name of " + n + " bytes in server_name");
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            int ch = name.u8("server name");
            boolean ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_';
            if (!ok) throw new Bad(String.format(Locale.ROOT, "byte 0x%02x in the server_name host name", ch));
            sb.append((char) (ch >= 'A' && ch <= 'Z' ? ch + 32 : ch));
        }
        if (sb.charAt(sb.length() - 1) == '.') sb.setLength(sb.length() - 1);
        if (sb.isEmpty() || sb.charAt(0) == '.' || sb.indexOf("..") >= 0) throw new Bad("empty label in the server_name host name");
        return sb.toString();
    }

    /** ALPN: a non-empty list of non-empty protocol names (any bytes; shown as ISO-8859-1). */
    private static List<String> alpn(Cursor e) throws Bad {
        int listLen = e.u16("ALPN list length");
        Cursor list = e.sub(listLen, "ALPN list");
        if (e.left() != 0) throw new Bad("ALPN list length " + listLen + " leaves " + e.left() + " bytes over");
        if (listLen < 2) throw new Bad("empty ALPN list");
        List<String> out = new ArrayList<>();
        while (list.left() > 0) {
            int n = list.u8("ALPN protocol length");
            if (n == 0) throw new Bad("empty ALPN protocol name");
            out.add(list.text(n, "ALPN protocol"));
        }
        return List.copyOf(out);
    }

    static int u16(byte[] b, int i) {
        return (b[i] & 0xff) << 8 | (b[i + 1] & 0xff);
    }

    static int u24(byte[] b, int i) {
        return (b[i] & 0xff) << 16 | (b[i + 1] & 0xff) << 8 | (b[i + 2] & 0xff);
    }

    /** Reads within [pos, end) of one buffer; every read is checked against end. */
    private static final class Cursor {
        private final byte[] b;
        private int pos;
        private final int end;

        Cursor(byte[] b, int pos, int end) {
            this.b = b;
            this.pos = pos;
            this.end = end;
        }

        int left() {
            return end - pos;
        }

        private void need(int n, String what) throws Bad {
            if (n > end - pos) throw new Bad(what + " needs " + n + " bytes, " + (end - pos) + " are left in its enclosing length");
        }

        void skip(int n, String what) throws Bad {
            need(n, what);
            pos += n;
        }

        int u8(String what) throws Bad {
            need(1, what);
            return b[pos++] & 0xff;
        }

        int u16(String what) throws Bad {
            need(2, what);
            int v = ClientHello.u16(b, pos);
            pos += 2;
            return v;
        }

        /** The next {@code n} bytes as a cursor of their own; this one moves past them. */
        Cursor sub(int n, String what) throws Bad {
            need(n, what);
            Cursor c = new Cursor(b, pos, pos + n);
            pos += n;
            return c;
        }

        String text(int n, String what) throws Bad {
            need(n, what);
            String s = new String(b, pos, n, java.nio.charset.StandardCharsets.ISO_8859_1);
            pos += n;
            return s;
        }
    }

    private ClientHello() {}
}
