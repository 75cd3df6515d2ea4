package org.epollproxy.dns;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A DNS server for tests, on 127.0.0.1 and a free UDP port: it answers A and AAAA queries from a table
 * the test changes while it runs ({@link #set}), NXDOMAIN for other names, SERVFAIL or silence when told
 * ({@link #failWith}). One thread; it counts the queries it answered.
 */
public final class TinyDnsServer implements AutoCloseable {
    private final DatagramSocket socket;
    private final Map<String, List<InetAddress>> table = new ConcurrentHashMap<>();
    private final Thread thread;
    /** 0: answer; 2: SERVFAIL; -1: no answer at all. */
    private volatile int failure;
    /** An RCODE for AAAA queries only (0: none). */
    private volatile int aaaaFailure;
    public final AtomicInteger queries = new AtomicInteger();
    /** Queries received, answered or not (a silent server counts them too). */
    public final AtomicInteger received = new AtomicInteger();

    public TinyDnsServer() throws SocketException {
        socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        thread = new Thread(this::serve, "tiny-dns");
        thread.setDaemon(true);
        thread.start();
    }

    public int port() {
        return socket.getLocalPort();
    }

    /** "127.0.0.1:PORT", as --resolver takes it. */
    public String address() {
        return "127.0.0.1:" + port();
    }

    /** {@code name} answers {@code addresses} (IP literals) from now on; none: an empty answer. */
    public void set(String name, String... addresses) {
        List<InetAddress> as = new ArrayList<>();
        for (String a : addresses) {
            try {
                as.add(InetAddress.getByName(a));
            } catch (IOException e) {
                throw new IllegalArgumentException(a);
            }
        }
        table.put(name.toLowerCase(Locale.ROOT), as);
    }

    /** AAAA queries get {@code rcode} (0: answered again); A queries are answered. */
    public void failAaaaWith(int rcode) {
        aaaaFailure = rcode;
    }

    /** 0: answer again; 2: SERVFAIL (or any RCODE); -1: drop every query. */
    public void failWith(int rcode) {
        failure = rcode;
    }

    private void serve() {
        byte[] buf = new byte[512];
        while (!socket.isClosed()) {
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            try {
                socket.receive(p);
                received.incrementAndGet();
                byte[] reply = answer(buf, p.getLength());
                if (reply == null) continue;
                queries.incrementAndGet(); // before the reply: a client that has its answer sees it counted
                socket.send(new DatagramPacket(reply, reply.length, p.getSocketAddress()));
            } catch (IOException | RuntimeException e) {
                if (socket.isClosed()) return;
            }
        }
    }

    private byte[] answer(byte[] q, int len) {
        int f = failure;
        if (f < 0) return null;
        // the question: labels from byte 12, then type and class
        StringBuilder name = new StringBuilder();
        int at = 12;
        while (q[at] != 0) {
            int l = q[at] & 0xff;
            if (name.length() > 0) name.append('.');
            name.append(new String(q, at + 1, l, java.nio.charset.StandardCharsets.US_ASCII));
            at += 1 + l;
        }
        int qEnd = at + 5;
        int type = ((q[at + 1] & 0xff) << 8) | (q[at + 2] & 0xff);
        List<InetAddress> all = table.get(name.toString().toLowerCase(Locale.ROOT));
        int rcode = f > 0 ? f : type == DnsClient.TYPE_AAAA && aaaaFailure > 0 ? aaaaFailure : all == null ? 3 : 0;
        List<byte[]> rdata = new ArrayList<>();
        if (rcode == 0) {
            for (InetAddress a : all) if (a.getAddress().length == (type == DnsClient.TYPE_A ? 4 : 16)) rdata.add(a.getAddress());
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        out.write(q[0]);
        out.write(q[1]);
        out.write(0x81); // QR, RD
        out.write(0x80 | rcode); // RA, RCODE
        out.writeBytes(new byte[] {0, 1, 0, (byte) rdata.size(), 0, 0, 0, 0});
        out.write(q, 12, qEnd - 12);
        for (byte[] r : rdata) {
            out.writeBytes(new byte[] {(byte) 0xc0, 12, 0, (byte) type, 0, 1, 0, 0, 0, 0, 0, (byte) r.length});
            out.writeBytes(r);
        }
        return out.toByteArray();
    }

    @Override
    public void close() throws InterruptedException {
        socket.close();
        thread.join(5000);
    }
}
