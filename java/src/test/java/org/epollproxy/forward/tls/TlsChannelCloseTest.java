package org.epollproxy.forward.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.epollproxy.forward.BufferPool;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.NativeMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link TlsChannel#shutdownOutput} when the last records still wait for a slow peer: the proxy forwards a FIN
 * as close_notify then FIN, so the peer can tell a complete stream from a cut one. The records that wait go
 * first, then close_notify, then the FIN. And a server's hello watch ends with the handshake. Over the
 * in-memory wire of {@link TlsChannelWriteTest}.
 */
class TlsChannelCloseTest {
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
        TlsChannelWriteTest.Queue toClient = new TlsChannelWriteTest.Queue(1 << 20), toServer = new TlsChannelWriteTest.Queue(1 << 20);
        Kernel k = TlsChannelWriteTest.wire(toClient, toServer);
        TlsServer server = new TlsServer("test", List.of(new TlsServer.CertFiles(dir.resolve("ec.crt"), dir.resolve("ec.key"))), List.of(), null,
                TlsServer.ClientAuth.NONE, 10_000);
        TlsClient client = new TlsClient("test", "ec.example", dir.resolve("ec.crt"), null);
        TlsChannel s = new TlsChannel(server.newEngine(), k, pool, 1, server.metrics());
        TlsChannel c = new TlsChannel(client.newEngine("ec.example", 443), k, pool, 2, client.metrics());
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
        int rs = -1, rc = -1;
        for (int i = 0; i < 100 && (rs != TlsChannel.DONE || rc != TlsChannel.DONE); i++) {
            rc = c.handshake();
            if (rc == TlsChannel.WANT_TASK) c.runTasks();
            rs = s.handshake();
            if (rs == TlsChannel.WANT_TASK) s.runTasks();
        }
        assertEquals(TlsChannel.DONE, rs);
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
        TlsChannelWriteTest.Queue toClient = new TlsChannelWriteTest.Queue(1 << 20), toServer = new TlsChannelWriteTest.Queue(1 << 20);
        TlsChannel[] ends = connected(TlsChannelWriteTest.wire(toClient, toServer));
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
