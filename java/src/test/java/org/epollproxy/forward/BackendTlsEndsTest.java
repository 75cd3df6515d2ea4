package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.epollproxy.forward.tls.PemFiles;
import org.epollproxy.forward.tls.TlsClient;
import org.epollproxy.shim.SockAddr;
import org.epollproxy.stats.StatsServer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How a connection to a TLS backend ends after the handshake, seen in the log line and on /metrics. A backend
 * whose TLS stream breaks (a record the engine refuses) ends the pair as tls-error, and the line says what the
 * engine said; a backend that sends FIN without close_notify truncates its stream, which the plain client cannot
 * see (it gets a plain FIN), so the line and a counter say it, as they do for a client on a terminating listener.
 * The backend is the JDK's own TLS server over a socket the test can also write to raw.
 */
class BackendTlsEndsTest {
    @TempDir
    static Path dir;
    static SSLContext serverContext;

    @BeforeAll
    static void certificate() throws Exception {
        Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "b.key", "-out", "b.crt", "-days", "2", "-subj", "/CN=b.example", "-addext", "subjectAltName=DNS:b.example")
                .directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "openssl req");
        assertEquals(0, p.exitValue(), out);
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("b", PemFiles.privateKey(dir.resolve("b.key")), new char[0],
                PemFiles.certificates(dir.resolve("b.crt")).toArray(new X509Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, new char[0]);
        serverContext = SSLContext.getInstance("TLS");
        serverContext.init(kmf.getKeyManagers(), null, null);
    }

    /**
     * A TLS backend of one connection: handshake, send "hello\n" in a record, then {@code after} gets the TLS
     * socket and the raw one under it. Runs on its own thread; its failures show as the test's timeouts.
     */
    static ServerSocket backend(BiConsumer<SSLSocket, Socket> after) throws Exception {
        ServerSocket server = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
        Thread t = new Thread(() -> {
            try (Socket raw = server.accept()) {
                SSLSocket tls = (SSLSocket) serverContext.getSocketFactory().createSocket(raw, "127.0.0.1", raw.getPort(), false);
                tls.setUseClientMode(false);
                tls.startHandshake();
                tls.getOutputStream().write("hello\n".getBytes(StandardCharsets.US_ASCII));
                tls.getOutputStream().flush();
                after.accept(tls, raw);
                raw.setSoTimeout(20_000);
                raw.getInputStream().transferTo(OutputStream.nullOutputStream()); // until the proxy closes
            } catch (Exception e) {
                // the proxy's end of the connection is what the test checks
            }
        }, "tls-backend");
        t.setDaemon(true);
        t.start();
        return server;
    }

    static Forward forward(int backendPort) throws Exception {
        return new Forward(SockAddr.parse("127.0.0.1", 0), List.of(new Backend("127.0.0.1", SockAddr.parse("127.0.0.1", backendPort))))
                .withBackendTls(new TlsClient("test", "b.example", dir.resolve("b.crt"), null));
    }

    /** A sample of /metrics, read as text (the page has histograms, which the test parser does not take). */
    static long sample(StatsServer stats, String sample) throws Exception {
        String page = StatsEndpointTest.get(stats, "/metrics").body();
        int at = page.indexOf(sample + " ");
        assertTrue(at >= 0, sample + " in\n" + page);
        return Long.parseLong(page.substring(at + sample.length() + 1, page.indexOf('\n', at)));
    }

    /** Reads the client's side to its end: what the backend sent through the proxy. */
    static String readAll(Socket c) throws Exception {
        InputStream in = c.getInputStream();
        return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
    }

    /** The truncation counter of the proxy's forward, from /metrics (read as text: the page has histograms). */
    static long truncated(StatsServer stats, TestProxy proxy) throws Exception {
        String page = StatsEndpointTest.get(stats, "/metrics").body();
        String sample = "epollproxy_backend_tls_truncated_total{forward=\"127.0.0.1:" + proxy.port() + "\"} ";
        int at = page.indexOf(sample);
        assertTrue(at >= 0, page);
        return Long.parseLong(page.substring(at + sample.length(), page.indexOf('\n', at)));
    }

    @Test
    void aBackendThatClosesWithoutCloseNotifyIsLoggedAndCountedAsATruncation() throws Exception {
        try (ServerSocket server = backend((tls, raw) -> {
                    try {
                        raw.shutdownOutput(); // FIN under the TLS stream: no close_notify
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                TestProxy proxy = new TestProxy(Settings.builder().connectTimeoutMs(60_000).build(), List.of(forward(server.getLocalPort())));
                StatsServer stats = StatsEndpointTest.statsOn(proxy);
                Socket c = proxy.connect()) {
            assertEquals("hello\n", readAll(c), "the bytes before the FIN arrive, then the end of the stream");
            c.close();
            proxy.awaitLog("end=backend-closed");
            String line = proxy.log().lines().filter(l -> l.contains("end=backend-closed")).findFirst().orElseThrow();
            assertTrue(line.contains("why=\"the backend closed without close_notify (truncated TLS stream)\""), line);
            assertEquals(1, truncated(stats, proxy));
        }
    }

    @Test
    void aBackendWhoseHandshakeTimesOutIsCountedAndTheNextBackendsConnectionEndsWithoutItsWhy() throws Exception {
        // The first backend takes the connect (the kernel's accept queue) and never says a TLS word.
        try (ServerSocket silent = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
                ServerSocket server = backend((tls, raw) -> {
                    try {
                        tls.close(); // close_notify: a clean end
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                TestProxy proxy = new TestProxy(Settings.builder().connectTimeoutMs(3_000).build(), List.of(
                        new Forward(SockAddr.parse("127.0.0.1", 0), List.of(new Backend("127.0.0.1", SockAddr.parse("127.0.0.1", silent.getLocalPort())),
                                new Backend("127.0.0.1", SockAddr.parse("127.0.0.1", server.getLocalPort()))))
                                .withBackendTls(new TlsClient("test", "b.example", dir.resolve("b.crt"), null))));
                StatsServer stats = StatsEndpointTest.statsOn(proxy);
                Socket c = proxy.connect()) {
            assertEquals("hello\n", readAll(c), "the second backend's bytes, after the first one's handshake timed out");
            c.close();
            proxy.awaitLog("end=backend-closed");
            assertTrue(proxy.log().contains("failed: connect timeout; trying 127.0.0.1:" + server.getLocalPort()), proxy.log());
            String line = proxy.log().lines().filter(l -> l.contains("end=backend-closed")).findFirst().orElseThrow();
            assertTrue(!line.contains("why="), "the connection that worked ended cleanly: " + line);
            assertTrue(line.contains("tls=\"backend TLSv1."), line);
            assertEquals(1, sample(stats, "epollproxy_backend_tls_handshake_failures_total{forward=\"127.0.0.1:" + proxy.port() + "\",reason=\"timeout\"}"));
        }
    }

    @Test
    void aBackendsFirstRecordLargerThanTheBufferIsAProtocolFailure() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
                TestProxy proxy = new TestProxy(Settings.builder().connectTimeoutMs(60_000).build(), List.of(forward(server.getLocalPort())));
                StatsServer stats = StatsEndpointTest.statsOn(proxy)) {
            Thread t = new Thread(() -> {
                try (Socket raw = server.accept()) {
                    byte[] record = new byte[5 + 32767]; // a handshake record the JDK takes, the default buffer cannot hold
                    record[0] = 22;
                    record[1] = 3;
                    record[2] = 3;
                    record[3] = 0x7f;
                    record[4] = (byte) 0xff;
                    raw.getOutputStream().write(record);
                    raw.setSoTimeout(20_000);
                    raw.getInputStream().transferTo(OutputStream.nullOutputStream());
                } catch (java.io.IOException e) {
                    // the proxy's end is what the test checks
                }
            }, "big-record-backend");
            t.setDaemon(true);
            t.start();
            try (Socket c = proxy.connect()) {
                try {
                    readAll(c);
                } catch (java.net.SocketException e) {
                    // reset
                }
            }
            proxy.awaitLog("end=backend-tls");
            String line = proxy.log().lines().filter(l -> l.contains("end=backend-tls")).findFirst().orElseThrow();
            assertTrue(line.contains("why=\"a TLS record larger than the buffer\""), line);
            assertEquals(1, sample(stats, "epollproxy_backend_tls_handshake_failures_total{forward=\"127.0.0.1:" + proxy.port() + "\",reason=\"protocol\"}"));
        }
    }

    @Test
    void aBackendRecordTheEngineRefusesEndsTheConnectionAsTlsErrorSayingWhy() throws Exception {
        try (ServerSocket server = backend((tls, raw) -> {
                    try {
                        byte[] forged = new byte[5 + 32]; // application data of 32 bytes, all zero: its tag cannot match
                        forged[0] = 23;
                        forged[1] = 3;
                        forged[2] = 3;
                        forged[4] = 32;
                        raw.getOutputStream().write(forged);
                        raw.getOutputStream().flush();
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                TestProxy proxy = new TestProxy(Settings.builder().connectTimeoutMs(60_000).build(), List.of(forward(server.getLocalPort())));
                StatsServer stats = StatsEndpointTest.statsOn(proxy);
                Socket c = proxy.connect()) {
            try {
                readAll(c);
            } catch (java.net.SocketException e) {
                // the client is reset: its stream did not end cleanly
            }
            proxy.awaitLog("end=tls-error");
            String line = proxy.log().lines().filter(l -> l.contains("end=tls-error")).findFirst().orElseThrow();
            assertTrue(line.contains("why=\"backend TLS: "), line);
            assertEquals(0, truncated(stats, proxy));
        }
    }
}
