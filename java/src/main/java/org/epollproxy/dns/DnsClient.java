package org.epollproxy.dns;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A small stub resolver ({@code --resolver HOST:PORT}, as nginx's {@code resolver}): A and AAAA queries
 * over UDP to one server (RFC 1035), recursion desired, a random id and a fresh ephemeral port per query,
 * the answers' addresses collected (a CNAME chain the server followed included). Bounded: one datagram of
 * at most {@link #MAX_REPLY} bytes per query (a reply cut short, TC, is asked for again over TCP, once,
 * within {@code timeoutMs}), at most {@link #MAX_RECORDS} records read ({@link #MAX_TCP_RECORDS} over TCP),
 * each query tried {@link #TRIES} times with {@code timeoutMs} each. Blocking: call it from a thread of its own,
 * never from an event loop. No cache: the caller decides when to ask again.
 */
public final class DnsClient {
    public static final int TYPE_A = 1;
    public static final int TYPE_AAAA = 28;
    static final int CLASS_IN = 1;
    static final int MAX_REPLY = 4096;
    static final int MAX_TCP_REPLY = 65535;
    /** Records read from a TCP reply: as many as 64 KiB can hold (16 bytes per A record), so no name is refused for its size. */
    static final int MAX_TCP_RECORDS = 4096;
    static final int MAX_RECORDS = 256;
    static final int TRIES = 2;
    static final int RCODE_NXDOMAIN = 3;
    static final int RCODE_NOTIMP = 4;
    static final int RCODE_REFUSED = 5;

    private final InetSocketAddress server;
    private final int timeoutMs;
    private final SecureRandom random = new SecureRandom();

    /** A lookup that failed: no answer in time, an error from the server, a reply that does not parse. */
    public static final class DnsException extends Exception {
        /** The server's RCODE when it answered with an error, else -1 (no answer, a bad reply, a bad name). */
        public final int rcode;

        public DnsException(String message) {
            this(message, -1);
        }

        DnsException(String message, int rcode) {
            super(message);
            this.rcode = rcode;
        }

        /** The server declines this query (REFUSED, NOTIMP): an answer, unlike a timeout or SERVFAIL. */
        boolean declined() {
            return rcode == RCODE_REFUSED || rcode == RCODE_NOTIMP;
        }
    }

    public DnsClient(InetSocketAddress server, int timeoutMs) {
        this.server = server;
        this.timeoutMs = timeoutMs;
    }

    public InetSocketAddress server() {
        return server;
    }

    /**
     * Every address of {@code name}: its A records, then its AAAA records, each in the server's order,
     * duplicates dropped. Empty if the name does not exist or has neither. DnsException if either query
     * failed (no answer, SERVFAIL, a bad reply), so that the caller keeps what it had rather than lose one
     * family's addresses to a passing failure; one query the server declines (REFUSED, NOTIMP: a dnsmasq
     * without upstream servers does so for the AAAA of a name its hosts file gives only an IPv4 address)
     * counts as no records of that type when the other query was answered.
     */
    public List<InetAddress> lookup(String name) throws DnsException {
        List<InetAddress> v4 = null;
        DnsException declined = null;
        try {
            v4 = query(name, TYPE_A);
        } catch (DnsException e) {
            if (!e.declined()) throw e;
            declined = e;
        }
        Set<InetAddress> out = new LinkedHashSet<>(v4 == null ? List.of() : v4);
        try {
            out.addAll(query(name, TYPE_AAAA));
        } catch (DnsException e) {
            if (!e.declined() || declined != null) throw declined != null ? declined : e;
        }
        return new ArrayList<>(out);
    }

    /** The addresses of type {@code type} (A or AAAA) the server answers for {@code name}. */
    public List<InetAddress> query(String name, int type) throws DnsException {
        byte[] q;
        int id = random.nextInt(0x10000);
        try {
            q = DnsMessage.query(id, name, type);
        } catch (IllegalArgumentException e) {
            throw new DnsException("\"" + name + "\": " + e.getMessage());
        }
        String what = (type == TYPE_A ? "A" : "AAAA") + " " + name + " from " + server.getAddress().getHostAddress() + ":" + server.getPort();
        for (int attempt = 0; attempt < TRIES; attempt++) {
            try (DatagramSocket s = new DatagramSocket()) {
                s.connect(server); // replies from any other address are dropped by the kernel
                s.setSoTimeout(timeoutMs);
                s.send(new DatagramPacket(q, q.length));
                byte[] buf = new byte[MAX_REPLY];
                long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
                while (true) {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    s.receive(p);
                    DnsMessage.Reply r = DnsMessage.parse(buf, p.getLength(), q, MAX_RECORDS);
                    if (r == null) { // not an answer to this query (another id or question: forged, or late): wait on
                        int left = (int) ((deadline - System.nanoTime()) / 1_000_000L);
                        if (left <= 0) throw new SocketTimeoutException();
                        s.setSoTimeout(left);
                        continue;
                    }
                    if (r.truncated()) return overTcp(q, what); // RFC 7766: the whole answer is asked for over TCP
                    return answer(r, what);
                }
            } catch (SocketTimeoutException e) {
                // try again, then give up
            } catch (IOException e) {
                throw new DnsException(what + ": " + e.getMessage());
            } catch (IllegalArgumentException e) {
                throw new DnsException(what + ": a reply that does not parse (" + e.getMessage() + ")");
            }
        }
        throw new DnsException(what + ": no answer within " + TRIES + " x " + timeoutMs + " ms");
    }

    /** The addresses of a reply, empty for NXDOMAIN; DnsException for any other error RCODE. */
    private static List<InetAddress> answer(DnsMessage.Reply r, String what) throws DnsException {
        if (r.rcode() == RCODE_NXDOMAIN) return List.of();
        if (r.rcode() != 0) throw new DnsException(what + ": the server answered " + DnsMessage.rcodeText(r.rcode()), r.rcode());
        return toAddresses(r.addresses());
    }

    /**
     * The query again over TCP, after a UDP reply cut short (TC): a name with more addresses than fit in
     * a datagram (a 512-byte one holds about 30 A records) would else resolve to whichever part the server
     * put in, and a server that rotates its answers (dnsmasq, CoreDNS's loadbalance) would change that part
     * at every round. One connection, the whole exchange within {@code timeoutMs}, a reply of at most
     * {@link #MAX_TCP_REPLY} bytes (what the 2-byte length can say). A failure fails the lookup: the
     * caller keeps what it had rather than take part of the answer.
     */
    private List<InetAddress> overTcp(byte[] q, String what) throws DnsException {
        String how = what + ": the UDP reply was cut short (TC) and over TCP ";
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        try (Socket s = new Socket()) {
            s.connect(server, timeoutMs);
            byte[] framed = new byte[2 + q.length];
            framed[0] = (byte) (q.length >> 8);
            framed[1] = (byte) q.length;
            System.arraycopy(q, 0, framed, 2, q.length);
            s.getOutputStream().write(framed);
            InputStream in = s.getInputStream();
            byte[] length = readFully(s, in, 2, deadline);
            int n = ((length[0] & 0xff) << 8) | (length[1] & 0xff);
            byte[] m = readFully(s, in, n, deadline);
            DnsMessage.Reply r = DnsMessage.parse(m, n, q, MAX_TCP_RECORDS);
            if (r == null) throw new DnsException(how + "the reply is not the answer to the query (another id or question)");
            return answer(r, what);
        } catch (SocketTimeoutException e) {
            throw new DnsException(how + "no whole answer came within " + timeoutMs + " ms");
        } catch (IOException e) {
            throw new DnsException(how + (e.getMessage() == null ? e.toString() : e.getMessage()));
        } catch (IllegalArgumentException e) {
            throw new DnsException(how + "the reply does not parse (" + e.getMessage() + ")");
        }
    }

    /** {@code n} bytes from {@code in}, all by {@code deadline}: a server sending a byte at a time cannot hold the lookup longer. */
    private static byte[] readFully(Socket s, InputStream in, int n, long deadline) throws IOException {
        byte[] b = new byte[n];
        for (int at = 0; at < n; ) {
            long left = (deadline - System.nanoTime()) / 1_000_000L;
            if (left <= 0) throw new SocketTimeoutException();
            s.setSoTimeout((int) left);
            int got = in.read(b, at, n - at);
            if (got < 0) throw new EOFException("the server closed the connection after " + at + " of " + n + " bytes");
            at += got;
        }
        return b;
    }

    private static List<InetAddress> toAddresses(List<byte[]> raw) throws DnsException {
        List<InetAddress> out = new ArrayList<>();
        for (byte[] a : raw) {
            try {
                out.add(InetAddress.getByAddress(a));
            } catch (UnknownHostException e) {
                throw new DnsException("a record of " + a.length + " bytes is no address");
            }
        }
        return out;
    }
}
