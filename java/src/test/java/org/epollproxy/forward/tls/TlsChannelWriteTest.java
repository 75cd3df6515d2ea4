package org.epollproxy.forward.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.epollproxy.forward.BufferPool;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.NativeMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link TlsChannel#write} against a socket with room: the whole plaintext buffer goes out as records in one
 * call. The forwarding code reads a short take as "the socket is full" and waits for EPOLLOUT, so a channel
 * that took one record's worth of a full buffer cost an epoll_wait and four epoll_ctl per 32 KiB of bulk.
 * The two ends talk over an in-memory wire (a kernel whose send/recv/shutdown move bytes between two queues
 * of bounded size), so the test sees exactly what each call did.
 */
class TlsChannelWriteTest {
    @TempDir
    static Path dir;

    static final int BUFFER = 32 * 1024;

    @BeforeAll
    static void files() throws Exception {
        Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "ec.key", "-out", "ec.crt", "-days", "2", "-subj", "/CN=ec.example", "-addext", "subjectAltName=DNS:ec.example")
                .directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "openssl req");
        assertEquals(0, p.exitValue(), out);
    }

    /** One direction of the wire: what send put and recv has not taken yet, at most {@code capacity} bytes. */
    static final class Queue {
        int capacity;
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int sends;
        /** Sends refused because the queue was full. */
        int refused;
        boolean fin;

        Queue(int capacity) {
            this.capacity = capacity;
        }
    }

    /** A kernel with two fds, 1 (the server's) and 2 (the client's), joined by two queues. */
    static Kernel wire(Queue toClient, Queue toServer) {
        return (Kernel) Proxy.newProxyInstance(Kernel.class.getClassLoader(), new Class<?>[] {Kernel.class}, (p, m, a) -> {
            int fd = a == null ? 0 : (Integer) a[0];
            Queue out = fd == 1 ? toClient : toServer;
            Queue in = fd == 1 ? toServer : toClient;
            switch (m.getName()) {
                case "send": {
                    int n = Math.min((Integer) a[2], Math.max(0, out.capacity - out.bytes.size()));
                    if (n == 0) {
                        out.refused++;
                        return -Errno.EAGAIN;
                    }
                    byte[] b = new byte[n];
                    NativeMemory.get((Long) a[1], b, 0, n);
                    out.bytes.write(b, 0, n);
                    out.sends++;
                    return n;
                }
                case "recv": {
                    byte[] have = in.bytes.toByteArray();
                    if (have.length == 0) return in.fin ? 0 : -Errno.EAGAIN;
                    int n = Math.min((Integer) a[2], have.length);
                    NativeMemory.put((Long) a[1], have, 0, n);
                    in.bytes.reset();
                    in.bytes.write(have, n, have.length - n);
                    return n;
                }
                case "shutdown":
                    out.fin = true;
                    return 0;
                default:
                    throw new UnsupportedOperationException(m.getName());
            }
        });
    }

    final BufferPool pool = new BufferPool(BUFFER, 16);
    final List<Long> memory = new ArrayList<>();

    @AfterEach
    void free() {
        memory.forEach(NativeMemory::free);
        pool.close();
    }

    long plain(byte[] b) {
        long m = NativeMemory.allocate(Math.max(b.length, BUFFER));
        memory.add(m);
        NativeMemory.put(m, b, 0, b.length);
        return m;
    }

    /** A finished handshake between a server channel on fd 1 and a client channel on fd 2. */
    TlsChannel[] connected(Kernel k) throws Exception {
        TlsServer server = new TlsServer("test", List.of(new TlsServer.CertFiles(dir.resolve("ec.crt"), dir.resolve("ec.key"))), List.of(), null,
                TlsServer.ClientAuth.NONE, 10_000);
        TlsClient client = new TlsClient("test", "ec.example", dir.resolve("ec.crt"), null);
        TlsChannel s = new TlsChannel(server.newEngine(), k, pool, 1, server.metrics());
        TlsChannel c = new TlsChannel(client.newEngine("ec.example", 443), k, pool, 2, client.metrics());
        int rs = -1, rc = -1;
        for (int i = 0; i < 100 && (rs != TlsChannel.DONE || rc != TlsChannel.DONE); i++) {
            rc = c.handshake();
            if (rc == TlsChannel.WANT_TASK) c.runTasks();
            rs = s.handshake();
            if (rs == TlsChannel.WANT_TASK) s.runTasks();
        }
        assertEquals(TlsChannel.DONE, rs, "server handshake");
        assertEquals(TlsChannel.DONE, rc, "client handshake");
        return new TlsChannel[] {s, c};
    }

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
