package org.epollproxy.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Datagrams that carry the query's id but not its question (a forger who guessed the id, or a late answer
 * to another query that reused it) answer nothing: the client waits for the reply to its own question.
 * The server in the test sends the forged datagram first, then the true reply, over real UDP on loopback.
 */
@Timeout(60)
class DnsForgedReplyTest {

    /** Answers each query with the datagrams {@code replies} makes of it, in order. */
    private static final class ScriptedServer implements AutoCloseable {
        final DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        final Thread thread;

        ScriptedServer(Function<byte[], List<byte[]>> replies) throws Exception {
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

        @Override
        public void close() throws InterruptedException {
            socket.close();
            thread.join(5000);
        }
    }

    /** A NOERROR reply with query {@code q}'s id, the question (name, type) given, and one record per address of that type. */
    private static byte[] reply(byte[] q, String name, int type, String... addresses) throws Exception {
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

    private static int typeOf(byte[] q) {
        return ((q[q.length - 4] & 0xff) << 8) | (q[q.length - 3] & 0xff);
    }

    @Test
    void aDatagramWithOurIdButAnotherNameOrTypeIsNotTheAnswer() throws Exception {
        try (ScriptedServer dns = new ScriptedServer(q -> {
            try {
                int type = typeOf(q);
                return type == DnsClient.TYPE_A
                        ? List.of(reply(q, "evil.test", type, "6.6.6.6"), reply(q, "app.test", DnsClient.TYPE_AAAA), reply(q, "APP.test", type, "127.0.0.2"))
                        : List.of(reply(q, "app.test", type));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        })) {
            DnsClient c = new DnsClient(new InetSocketAddress(InetAddress.getLoopbackAddress(), dns.socket.getLocalPort()), 5000);
            assertEquals(List.of(InetAddress.getByName("127.0.0.2")), c.lookup("app.test"),
                    "the forged answer for evil.test and the one for another type are dropped; the name's case does not matter");
        }
    }
}
