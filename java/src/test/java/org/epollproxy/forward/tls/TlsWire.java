package org.epollproxy.forward.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.epollproxy.forward.BufferPool;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.NativeMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the tests of one {@link TlsChannel} pair share: a server channel on fd 1 and a client channel on fd 2
 * joined by an in-memory wire (a kernel whose send/recv/shutdown move bytes between two queues of bounded
 * size, so a test sees exactly what each call did and can stop either end reading), an EC certificate for
 * ec.example, the loop's buffer pool and plaintext buffers freed after each test.
 */
abstract class TlsWire {
    @TempDir
    static Path dir;

    static final int BUFFER = 32 * 1024;

    @BeforeAll
    static void certificate() throws Exception {
        ecCertificate(dir);
    }

    /** ec.crt and ec.key in {@code dir}: a self-signed P-256 certificate for ec.example, valid two days. */
    static void ecCertificate(Path dir) throws Exception {
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

    /** A native buffer of at least BUFFER bytes holding {@code b}, freed after the test. */
    long plain(byte[] b) {
        long m = NativeMemory.allocate(Math.max(b.length, BUFFER));
        memory.add(m);
        NativeMemory.put(m, b, 0, b.length);
        return m;
    }

    /** A server channel on fd 1 and a client channel on fd 2 over {@code k}, before their handshake. */
    TlsChannel[] channels(Kernel k) throws Exception {
        TlsServer server = new TlsServer("test", List.of(new TlsServer.CertFiles(dir.resolve("ec.crt"), dir.resolve("ec.key"))), List.of(), null,
                TlsServer.ClientAuth.NONE, 10_000);
        TlsClient client = new TlsClient("test", "ec.example", dir.resolve("ec.crt"), null);
        TlsChannel s = new TlsChannel(server.newEngine(), k, pool, 1, server.metrics());
        TlsChannel c = new TlsChannel(client.newEngine("ec.example", 443), k, pool, 2, client.metrics());
        return new TlsChannel[] {s, c};
    }

    /** The two ends' handshake, each running its own tasks, to its end. */
    static void handshake(TlsChannel s, TlsChannel c) throws javax.net.ssl.SSLException {
        int rs = -1, rc = -1;
        for (int i = 0; i < 100 && (rs != TlsChannel.DONE || rc != TlsChannel.DONE); i++) {
            rc = c.handshake();
            if (rc == TlsChannel.WANT_TASK) c.runTasks();
            rs = s.handshake();
            if (rs == TlsChannel.WANT_TASK) s.runTasks();
        }
        assertEquals(TlsChannel.DONE, rs, "server handshake");
        assertEquals(TlsChannel.DONE, rc, "client handshake");
    }

    /** A finished handshake between a server channel on fd 1 and a client channel on fd 2. */
    TlsChannel[] connected(Kernel k) throws Exception {
        TlsChannel[] ends = channels(k);
        handshake(ends[0], ends[1]);
        return ends;
    }
}
