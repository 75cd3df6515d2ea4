package org.epollproxy.forward.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.Random;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.NativeMemory;
import org.junit.jupiter.api.Test;

/**
 * {@link TlsChannel#write} against a socket with room: the whole plaintext buffer goes out as records in one
 * call. The forwarding code reads a short take as "the socket is full" and waits for EPOLLOUT, so a channel
 * that took one record's worth of a full buffer cost an epoll_wait and four epoll_ctl per 32 KiB of bulk.
 * The two ends talk over the in-memory wire of {@link TlsWire}, so the test sees exactly what each call did.
 */
class TlsChannelWriteTest extends TlsWire {
    @Test
    void aFullBufferGoesOutInOneWriteWhenTheSocketHasRoom() throws Exception {
        Queue toClient = new Queue(1 << 20), toServer = new Queue(1 << 20);
        Kernel k = wire(toClient, toServer);
        TlsChannel[] ends = connected(k);
        byte[] data = new byte[BUFFER];
        new Random(25).nextBytes(data);
        int sendsBefore = toClient.sends;
        assertEquals(BUFFER, ends[0].write(plain(data), BUFFER), "a buffer of plaintext taken whole");
        assertTrue(!ends[0].outputPending(), "every record sent");
        assertTrue(toClient.sends - sendsBefore >= 2, "two records: " + (toClient.sends - sendsBefore) + " sends");
        assertArrayEquals(data, readAll(ends[1], BUFFER));
    }

    @Test
    void aFullSocketStopsTheTakeAtARecordAndTheRestFollowsAfterFlush() throws Exception {
        Queue toClient = new Queue(1 << 20), toServer = new Queue(1 << 20);
        Kernel k = wire(toClient, toServer);
        TlsChannel[] ends = connected(k);
        byte[] data = new byte[BUFFER];
        new Random(26).nextBytes(data);
        long src = plain(data);
        byte[] got = new byte[BUFFER];
        int taken = 0, received = 0;
        // From now on the wire holds 20,000 bytes at a time: a record and a part of the next.
        toClient.capacity = 20_000;
        TlsChannel s = ends[0], c = ends[1];
        for (int round = 0; round < 100 && received < BUFFER; round++) {
            if (s.outputPending()) s.flush();
            if (taken < BUFFER) {
                int n = s.write(src + taken, BUFFER - taken);
                if (n > 0) taken += n;
                else assertEquals(-Errno.EAGAIN, n);
            }
            byte[] part = readAll(c, BUFFER - received);
            System.arraycopy(part, 0, got, received, part.length);
            received += part.length;
        }
        assertEquals(BUFFER, received);
        assertArrayEquals(data, got);
    }

    @Test
    void aFullSocketIsAskedOnceNotTwice() throws Exception {
        Queue toClient = new Queue(1 << 20), toServer = new Queue(1 << 20);
        TlsChannel[] ends = connected(wire(toClient, toServer));
        readAll(ends[1], BUFFER); // the session ticket, if the server sent one
        toClient.capacity = 20_000; // the first record and a part of the second
        byte[] data = new byte[BUFFER];
        new Random(27).nextBytes(data);
        int n = ends[0].write(plain(data), BUFFER);
        assertTrue(n > 0 && n <= BUFFER, "taken: " + n);
        assertTrue(ends[0].outputPending(), "the rest of the second record waits");
        assertEquals(1, toClient.refused, "sends that heard EAGAIN");
    }

    /** What the client end can decrypt now, up to {@code max} bytes. */
    byte[] readAll(TlsChannel c, int max) {
        long dst = plain(new byte[0]);
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        while (got.size() < max) {
            int n = c.read(dst, BUFFER);
            if (n <= 0) break;
            byte[] b = new byte[n];
            NativeMemory.get(dst, b, 0, n);
            got.write(b, 0, n);
        }
        return got.toByteArray();
    }
}
