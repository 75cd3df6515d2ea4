package org.epollproxy.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Datagrams that carry the query's id but not its question (a forger who guessed the id, or a late answer
 * to another query that reused it) answer nothing: the client waits for the reply to its own question.
 * The server in the test sends the forged datagram first, then the true reply, over real UDP on loopback.
 */
@Timeout(60)
class DnsForgedReplyTest {

    private static int typeOf(byte[] q) {
        return ((q[q.length - 4] & 0xff) << 8) | (q[q.length - 3] & 0xff);
    }

    @Test
    void aDatagramWithOurIdButAnotherNameOrTypeIsNotTheAnswer() throws Exception {
        try (ScriptedDnsServer dns = new ScriptedDnsServer(q -> {
            try {
                int type = typeOf(q);
                if (type != DnsClient.TYPE_A) return List.of(ScriptedDnsServer.reply(q, "app.test", type));
                return List.of(ScriptedDnsServer.reply(q, "evil.test", type, "6.6.6.6"), ScriptedDnsServer.reply(q, "app.test", DnsClient.TYPE_AAAA),
                        ScriptedDnsServer.reply(q, "APP.test", type, "127.0.0.2"));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        })) {
            DnsClient c = new DnsClient(new InetSocketAddress(InetAddress.getLoopbackAddress(), dns.port()), 5000);
            assertEquals(List.of(InetAddress.getByName("127.0.0.2")), c.lookup("app.test"),
                    "the forged answer for evil.test and the one for another type are dropped; the name's case does not matter");
        }
    }
}
