package org.epollproxy.forward.preread;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Hand-made ClientHellos for the tests: every length written by hand, so a test can make one lie. */
public final class Hellos {
    /** GREASE values (RFC 8701): 0x0A0A, 0x1A1A, ... 0xFAFA. */
    static final int GREASE_1 = 0x0A0A;
    static final int GREASE_2 = 0x3A3A;
    /** The encrypted_client_hello extension (draft-ietf-tls-esni). */
    static final int EXT_ECH = 0xfe0d;

    /** A ClientHello body's extensions, in order: each one type and its data. */
    public record Ext(int type, byte[] data) {}

    public static Ext sni(String name) {
        byte[] n = name.getBytes(StandardCharsets.ISO_8859_1);
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        u16(o, n.length + 3);
        o.write(0);
        u16(o, n.length);
        o.writeBytes(n);
        return new Ext(0, o.toByteArray());
    }

    public static Ext alpn(String... protos) {
        ByteArrayOutputStream list = new ByteArrayOutputStream();
        for (String p : protos) {
            list.write(p.length());
            list.writeBytes(p.getBytes(StandardCharsets.ISO_8859_1));
        }
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        u16(o, list.size());
        o.writeBytes(list.toByteArray());
        return new Ext(16, o.toByteArray());
    }

    public static Ext raw(int type, int length) {
        return new Ext(type, new byte[length]);
    }

    /** The handshake message: type 1, 3-byte length, TLS 1.2 legacy version, random, a session id, GREASE and real suites. */
    public static byte[] message(List<Ext> exts) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        u16(body, 0x0303);
        body.writeBytes(new byte[32]);
        body.write(32);
        body.writeBytes(new byte[32]);
        u16(body, 6);
        u16(body, GREASE_1);
        u16(body, 0x1301);
        u16(body, 0xc02f);
        body.write(1);
        body.write(0);
        if (exts != null) {
            ByteArrayOutputStream e = new ByteArrayOutputStream();
            for (Ext x : exts) {
                u16(e, x.type());
                u16(e, x.data().length);
                e.writeBytes(x.data());
            }
            u16(body, e.size());
            body.writeBytes(e.toByteArray());
        }
        ByteArrayOutputStream m = new ByteArrayOutputStream();
        m.write(1);
        m.write(body.size() >> 16);
        u16(m, body.size() & 0xffff);
        m.writeBytes(body.toByteArray());
        return m.toByteArray();
    }

    /** {@code message} in TLS records of at most {@code perRecord} bytes each (record version 0x0301). */
    public static byte[] records(byte[] message, int perRecord) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (int at = 0; at < message.length; at += perRecord) {
            int n = Math.min(perRecord, message.length - at);
            o.write(22);
            u16(o, 0x0301);
            u16(o, n);
            o.write(message, at, n);
        }
        return o.toByteArray();
    }

    /** A browser-like hello: GREASE extension first, SNI, ALPN, a 1.2 KB post-quantum key share, padding. */
    public static byte[] browser(String name, String... alpn) {
        List<Ext> exts = new java.util.ArrayList<>(List.of(raw(GREASE_1, 0), sni(name), raw(10, 8)));
        if (alpn.length > 0) exts.add(alpn(alpn));
        exts.addAll(List.of(raw(51, 1250), raw(GREASE_2, 1), raw(21, 200)));
        return records(message(exts), 1 << 14);
    }

    static void u16(ByteArrayOutputStream o, int v) {
        o.write(v >> 8);
        o.write(v);
    }

    private Hellos() {}
}
