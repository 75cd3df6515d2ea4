package org.epollproxy.forward.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.Random;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.NativeMemory;
import org.junit.jupiter.api.Test;

/**
 * {@link TlsChannel#shutdownOutput} when the last records still wait for a slow peer: the proxy forwards a FIN
 * as close_notify then FIN, so the peer can tell a complete stream from a cut one. The records that wait go
 * first, then close_notify, then the FIN. And a server's hello watch ends with the handshake. Over the
 * in-memory wire of {@link TlsWire}.
 */
class TlsChannelCloseTest extends TlsWire {
    /** What {@code c} can decrypt now; {@code end[0]} is set to true when it read the end of the stream. */
    byte[] readAll(TlsChannel c, boolean[] end) {
        long dst = plain(new byte[0]);
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        while (true) {
            int n = c.read(dst, BUFFER);
            if (n == 0) end[0] = true;
            if (n <= 0) break;
            byte[] b = new byte[n];
            NativeMemory.get(dst, b, 0, n);
            got.write(b, 0, n);
        }
        return got.toByteArray();
    }

    @Test
    void aHelloWatchEndsWithTheHandshake() throws Exception {
        Queue toClient = new Queue(1 << 20), toServer = new Queue(1 << 20);
        Kernel k = wire(toClient, toServer);
        TlsChannel[] ends = channels(k);
        TlsChannel s = ends[0], c = ends[1];
        // A watch that never says it is done (as one that took a ciphertext byte for a second hello's start)
        boolean[] handshaking = {true};
        int[] afterwards = {0};
        s.watchHello(new TlsChannel.HelloWatch() {
            @Override
            public boolean read(long in, int inLen) {
                if (!handshaking[0]) afterwards[0]++;
                return false;
            }

            @Override
            public void consumed(int used) {
                if (!handshaking[0]) afterwards[0]++;
            }
        });
        handshake(s, c);
        handshaking[0] = false;
        byte[] data = "after the handshake".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        assertEquals(data.length, c.write(plain(data), data.length));
        assertArrayEquals(data, readAll(s, new boolean[1]));
        assertEquals(0, afterwards[0], "the watch (and the bytes it holds) was dropped when the handshake ended");
        s.release();
        c.release();
    }

    @Test
    void closeNotifyFollowsTheRecordsThatStillWaitThenTheFin() throws Exception {
        Queue toClient = new Queue(1 << 20), toServer = new Queue(1 << 20);
        TlsChannel[] ends = connected(wire(toClient, toServer));
        TlsChannel s = ends[0], c = ends[1];
        boolean[] end = {false};
        readAll(c, end); // the session ticket, if the server sent one
        byte[] data = new byte[BUFFER];
        new Random(28).nextBytes(data);
        long src = plain(data);
        int head = BUFFER - 5000;
        assertEquals(head, s.write(src, head), "the first part goes out");
        toClient.capacity = toClient.bytes.size() + 100; // then the client stops reading: the last record waits
        assertEquals(5000, s.write(src + head, 5000), "the last part taken: its record waits in the channel");
        assertTrue(s.outputPending(), "records wait for the client");
        assertEquals(0, s.shutdownOutput(), "the backend's FIN, passed on");
        toClient.capacity = 1 << 20; // the client reads again
        for (int i = 0; i < 10 && s.outputPending(); i++) assertEquals(0, s.flush());
        assertTrue(!s.outputPending());
        assertTrue(toClient.fin, "the FIN went");
        assertArrayEquals(data, readAll(c, end));
        assertTrue(end[0], "the end of the stream");
        assertTrue(c.closeNotifyReceived() && !c.truncated(), "close_notify came before the FIN: the stream is complete, not cut");
        s.release();
        c.release();
    }
}
