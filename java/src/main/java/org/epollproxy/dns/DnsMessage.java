package org.epollproxy.dns;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * DNS messages as RFC 1035 lays them out: a query to build, a reply to read. Only what a stub resolver
 * of A and AAAA records needs; every length and pointer in a reply is checked against the datagram
 * (a bad one is IllegalArgumentException, never an index out of bounds or a loop).
 */
final class DnsMessage {
    static final int HEADER = 12;
    private static final int FLAG_QR = 0x8000;
    private static final int FLAG_RD = 0x0100;
    private static final int FLAG_TC = 0x0200;
    private static final int MAX_NAME = 253;

    /**
     * A reply to our query: its RCODE and the rdata of the answers of the asked type (4 or 16 bytes each);
     * {@code truncated} (the TC bit): the server cut the answer to fit a datagram, its records are not read.
     */
    record Reply(int rcode, List<byte[]> addresses, boolean truncated) {}

    /** A query for {@code name} of {@code type}, class IN, recursion desired. */
    static byte[] query(int id, String name, int type) {
        String n = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
        if (n.isEmpty() || n.length() > MAX_NAME) throw new IllegalArgumentException("not a host name (1-253 characters)");
        byte[] ascii = n.getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[HEADER + ascii.length + 2 + 4];
        put16(out, 0, id);
        put16(out, 2, FLAG_RD);
        put16(out, 4, 1); // one question
        int at = HEADER;
        for (String label : n.split("\\.", -1)) {
            if (label.isEmpty() || label.length() > 63) throw new IllegalArgumentException("a label of 1-63 characters expected");
            for (char c : label.toCharArray()) {
                if (c > 0x7e || c <= 0x20) throw new IllegalArgumentException("only ASCII letters, digits, '-' and '_' in a host name");
            }
            out[at++] = (byte) label.length();
            for (char c : label.toCharArray()) out[at++] = (byte) c;
        }
        out[at++] = 0;
        put16(out, at, type);
        put16(out, at + 2, DnsClient.CLASS_IN);
        return out;
    }

    /**
     * Reads a reply of {@code len} bytes to {@code query} (as {@link #query} made it): null if it is not the
     * reply to that query (another id, not a response, or another question: RFC 5452 section 9.1, so that
     * a forged or late datagram that guessed the id cannot answer for another name or type), else its
     * RCODE and the addresses of the query's type in its answer section. An error reply may leave the
     * question out (some servers do for FORMERR); any other reply must repeat it.
     */
    static Reply parse(byte[] m, int len, byte[] query, int maxRecords) {
        if (len < HEADER) return null;
        int id = get16(query, 0, query.length);
        int type = get16(query, query.length - 4, query.length);
        if (get16(m, 0, len) != id || (get16(m, 2, len) & FLAG_QR) == 0) return null;
        int rcode = get16(m, 2, len) & 0xf;
        int qd = get16(m, 4, len);
        int an = get16(m, 6, len);
        if (qd + an > maxRecords) throw new IllegalArgumentException(qd + an + " records, more than " + maxRecords);
        if (qd == 0 ? rcode == 0 : qd != 1 || !sameQuestion(m, len, query)) return null;
        if ((get16(m, 2, len) & FLAG_TC) != 0) return new Reply(rcode, List.of(), true); // part of an answer: ask over TCP
        int at = HEADER;
        for (int i = 0; i < qd; i++) at = skipName(m, at, len) + 4;
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < an; i++) {
            at = skipName(m, at, len);
            int rtype = get16(m, at, len);
            int rclass = get16(m, at + 2, len);
            int rdlen = get16(m, at + 8, len);
            at += 10;
            if (at + rdlen > len) throw new IllegalArgumentException("a record runs past the end");
            int want = type == DnsClient.TYPE_A ? 4 : 16;
            if (rtype == type && rclass == DnsClient.CLASS_IN) {
                if (rdlen != want) throw new IllegalArgumentException("an address record of " + rdlen + " bytes");
                byte[] a = new byte[want];
                System.arraycopy(m, at, a, 0, want);
                out.add(a);
            }
            at += rdlen;
        }
        return new Reply(rcode, out, false);
    }

    /** Whether the reply's question (at {@link #HEADER}) is the query's: the same name (ASCII case aside), type and class. */
    private static boolean sameQuestion(byte[] m, int len, byte[] query) {
        int n = query.length - HEADER;
        if (HEADER + n > len) return false;
        for (int i = HEADER; i < query.length; i++) {
            boolean inName = i < query.length - 4;
            if ((inName ? lower(m[i]) : m[i]) != (inName ? lower(query[i]) : query[i])) return false;
        }
        return true;
    }

    private static byte lower(byte b) {
        return b >= 'A' && b <= 'Z' ? (byte) (b + 32) : b;
    }

    /** The offset after the name at {@code at} (labels, ending in a zero byte or one compression pointer). */
    private static int skipName(byte[] m, int at, int len) {
        for (int labels = 0; labels < 128; labels++) {
            if (at >= len) throw new IllegalArgumentException("a name runs past the end");
            int b = m[at] & 0xff;
            if (b == 0) return at + 1;
            if ((b & 0xc0) == 0xc0) {
                if (at + 2 > len) throw new IllegalArgumentException("a name runs past the end");
                return at + 2; // a pointer ends the name; what it points to was read (or is not needed)
            }
            if ((b & 0xc0) != 0) throw new IllegalArgumentException("an unknown label type");
            at += 1 + b;
        }
        throw new IllegalArgumentException("a name of more than 128 labels");
    }

    static String rcodeText(int rcode) {
        return switch (rcode) {
            case 1 -> "FORMERR";
            case 2 -> "SERVFAIL";
            case 4 -> "NOTIMP";
            case 5 -> "REFUSED";
            default -> "RCODE " + rcode;
        };
    }

    private static int get16(byte[] m, int at, int len) {
        if (at + 2 > len) throw new IllegalArgumentException("cut short at byte " + at);
        return ((m[at] & 0xff) << 8) | (m[at + 1] & 0xff);
    }

    private static void put16(byte[] m, int at, int v) {
        m[at] = (byte) (v >> 8);
        m[at + 1] = (byte) v;
    }

    private DnsMessage() {}
}
