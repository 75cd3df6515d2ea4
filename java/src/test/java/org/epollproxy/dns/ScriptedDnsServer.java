package org.epollproxy.dns;

import java.io.ByteArrayOutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.function.Function;

/**
 * A DNS server for tests that says what the test scripts: on 127.0.0.1 and a free UDP port, each query is
 * answered with the datagrams a function makes of it, in order (none, one, a forged one first...).
 */
final class ScriptedDnsServer implements AutoCloseable {
    final DatagramSocket socket;
    private final Thread thread;

    ScriptedDnsServer(Function<byte[], List<byte[]>> replies) throws Exception {
        this(0, replies);
    }

    /** On UDP port {@code port} of 127.0.0.1 (0: a free one); BindException if it is taken. */
    ScriptedDnsServer(int port, Function<byte[], List<byte[]>> replies) throws Exception {
        socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        thread = new Thread(() -> {
            byte[] buf = new byte[512];
            while (!socket.isClosed()) {
                try {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    socket.receive(p);
                    byte[] q = java.util.Arrays.copyOf(buf, p.getLength());
                    for (byte[] r : replies.apply(q)) socket.send(new DatagramPacket(r, r.length, p.getSocketAddress()));
                } catch (Exception e) {
                    if (socket.isClosed()) return;
                }
            }
        }, "scripted-dns");
        thread.setDaemon(true);
        thread.start();
    }

    int port() {
        return socket.getLocalPort();
    }

    /** A NOERROR reply with query {@code q}'s id, the question (name, type) given, and one record per address of that type. */
    static byte[] reply(byte[] q, String name, int type, String... addresses) throws Exception {
        byte[] question = DnsMessage.query(0, name, type);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(q[0]);
        out.write(q[1]);
        out.writeBytes(new byte[] {(byte) 0x81, (byte) 0x80, 0, 1, 0, (byte) addresses.length, 0, 0, 0, 0});
        out.write(question, DnsMessage.HEADER, question.length - DnsMessage.HEADER);
        for (String a : addresses) {
            byte[] rdata = InetAddress.getByName(a).getAddress();
            out.writeBytes(new byte[] {(byte) 0xc0, 12, 0, (byte) type, 0, 1, 0, 0, 0, 60, 0, (byte) rdata.length});
            out.writeBytes(rdata);
        }
        return out.toByteArray();
    }

    @Override
    public void close() throws InterruptedException {
        socket.close();
        thread.join(5000);
    }
}
