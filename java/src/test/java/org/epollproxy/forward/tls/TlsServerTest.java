package org.epollproxy.forward.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A TlsServer's engines against the JDK's client engine, in memory: a resumed handshake (TLS 1.2 session ID,
 * TLS 1.3 ticket) is told from a full one, and a reload swaps the certificate for new handshakes while the
 * context, and with it the sessions clients may resume, lives on. A broken file changes nothing.
 */
class TlsServerTest {
    /**
     * From JDK 25 on (JDK-8357033) a session ticket holds a checksum of the server's certificate instead of the
     * certificate, and a ticket resumes only if the certificate chosen now is the same: a session made before
     * a reload that changed the certificate gets a full handshake. Before, the certificate travelled in the
     * ticket and the session resumed.
     */
    static final boolean TICKETS_NAME_THE_CERTIFICATE = Runtime.version().feature() >= 25;

    @TempDir
    Path dir;

    private void certificate(String name, String org) throws Exception {
        Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", name + ".key", "-out", name + ".crt", "-days", "2", "-subj", "/O=" + org + "/CN=" + name, "-addext",
                "subjectAltName=DNS:" + name).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
    }

    /** A client context trusting {@code certs} (its session cache is what makes the next handshake a resumption). */
    private SSLContext client(X509Certificate... certs) throws Exception {
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        ks.load(null, null);
        for (int i = 0; i < certs.length; i++) ks.setCertificateEntry("c" + i, certs[i]);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    /** One connection, handshake and one byte each way (the TLS 1.3 ticket travels after the handshake). */
    private record Outcome(boolean resumed, X509Certificate served) {}

    private static Outcome connect(SSLContext clientCtx, TlsServer server, String protocol) throws Exception {
        SSLEngine c = clientCtx.createSSLEngine("srv.example", 443);
        c.setUseClientMode(true);
        SSLParameters p = c.getSSLParameters();
        p.setProtocols(new String[] {protocol});
        p.setServerNames(List.of(new javax.net.ssl.SNIHostName("srv.example")));
        c.setSSLParameters(p);
        SSLEngine s = server.newEngine();
        ByteBuffer toServer = ByteBuffer.allocate(1 << 17);
        ByteBuffer toClient = ByteBuffer.allocate(1 << 17);
        ByteBuffer app = ByteBuffer.allocate(1 << 17);
        c.beginHandshake();
        s.beginHandshake();
        for (int round = 0; round < 30; round++) { // a handshake takes a few; the rest carry data (and the 1.3 ticket)
            pump(c, toServer, toClient, app);
            pump(s, toClient, toServer, app);
        }
        assertEquals(protocol, s.getSession().getProtocol());
        return new Outcome(server.resumed(s), (X509Certificate) c.getSession().getPeerCertificates()[0]);
    }

    private static boolean done(SSLEngine e) {
        HandshakeStatus h = e.getHandshakeStatus();
        return h == HandshakeStatus.NOT_HANDSHAKING || h == HandshakeStatus.FINISHED;
    }

    /** One step of {@code e}: run tasks, wrap into {@code out} (plus a byte of data once done), unwrap from {@code in}. */
    private static void pump(SSLEngine e, ByteBuffer out, ByteBuffer in, ByteBuffer app) throws Exception {
        Runnable t;
        while ((t = e.getDelegatedTask()) != null) t.run();
        e.wrap(done(e) ? ByteBuffer.wrap(new byte[] {'x'}) : ByteBuffer.allocate(0), out);
        while ((t = e.getDelegatedTask()) != null) t.run();
        in.flip();
        while (in.hasRemaining()) {
            app.clear();
            int before = in.remaining();
            e.unwrap(in, app);
            while ((t = e.getDelegatedTask()) != null) t.run();
            if (in.remaining() == before) break;
        }
        in.compact();
    }

    @Test
    void resumedHandshakesAreToldFromFullOnesInTls12AndTls13() throws Exception {
        certificate("srv.example", "first");
        TlsServer server = new TlsServer("443", List.of(new TlsServer.CertFiles(dir.resolve("srv.example.crt"), dir.resolve("srv.example.key"))),
                List.of(), null, TlsServer.ClientAuth.NONE, 10_000);
        X509Certificate cert = PemFiles.certificates(dir.resolve("srv.example.crt")).get(0);
        for (String protocol : List.of("TLSv1.2", "TLSv1.3")) {
            SSLContext client = client(cert);
            assertFalse(connect(client, server, protocol).resumed(), protocol + ": the first handshake is a full one");
            assertTrue(connect(client, server, protocol).resumed(), protocol + ": the second resumes the first's session");
            assertTrue(connect(client, server, protocol).resumed(), protocol + ": and so does the third");
            assertFalse(connect(client(cert), server, protocol).resumed(), protocol + ": a client without a session: full");
        }
    }

    @Test
    void aReloadServesTheNewCertificateToNewHandshakesKeepsSessionsAndABrokenKeyChangesNothing() throws Exception {
        certificate("srv.example", "second"); // made first, kept aside: the client that connects before the reload trusts both
        Files.move(dir.resolve("srv.example.crt"), dir.resolve("second.crt"));
        Files.move(dir.resolve("srv.example.key"), dir.resolve("second.key"));
        certificate("srv.example", "first");
        X509Certificate first = PemFiles.certificates(dir.resolve("srv.example.crt")).get(0);
        X509Certificate second = PemFiles.certificates(dir.resolve("second.crt")).get(0);
        TlsServer server = new TlsServer("443", List.of(new TlsServer.CertFiles(dir.resolve("srv.example.crt"), dir.resolve("srv.example.key"))),
                List.of(), null, TlsServer.ClientAuth.NONE, 10_000);
        TlsMetrics metrics = server.metrics();
        SSLContext before = client(first, second);
        assertEquals(first, connect(before, server, "TLSv1.3").served());

        assertEquals(List.of("tls: 443: certificates read again, unchanged"), server.reload());
        assertTrue(connect(before, server, "TLSv1.3").resumed(), "an unchanged certificate: the session resumes");

        Files.move(dir.resolve("second.crt"), dir.resolve("srv.example.crt"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.move(dir.resolve("second.key"), dir.resolve("srv.example.key"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        List<String> lines = server.reload();
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.get(0).startsWith("tls: reloaded certificate for 443: CN=srv.example,O=second, not after 20"), lines.get(0));
        assertEquals(second, connect(client(second), server, "TLSv1.3").served(), "a new client gets the new certificate");
        Outcome again = connect(before, server, "TLSv1.3");
        if (TICKETS_NAME_THE_CERTIFICATE) {
            assertFalse(again.resumed(), "JDK 25: a session made with a certificate no longer served does not resume");
            assertEquals(second, again.served(), "... but gets a full handshake with the new one");
        } else {
            assertTrue(again.resumed(), "a session made before the reload still resumes");
        }
        assertSame(metrics, server.metrics());

        Files.writeString(dir.resolve("srv.example.key"), "not a key\n");
        lines = server.reload();
        assertEquals(List.of("tls: 443: " + dir.resolve("srv.example.key")
                + ": no '-----BEGIN PRIVATE KEY-----' block (nor RSA or EC PRIVATE KEY); keeping the certificates loaded before"), lines);
        assertEquals(second, connect(client(second), server, "TLSv1.3").served(), "the broken key left the second certificate in use");
        assertThrows(PemFiles.BadPem.class, () -> server.stage(List.of(new TlsServer.CertFiles(dir.resolve("srv.example.crt"), dir.resolve("srv.example.key"))), null));
        assertNotSame(first, second);
    }

    @Test
    void aChangedClientCaStartsANewSessionCacheSoNoSessionResumesPastIt() throws Exception {
        certificate("srv.example", "first");
        certificate("ca.example", "one");
        Path ca = dir.resolve("ca.example.crt");
        TlsServer server = new TlsServer("443", List.of(new TlsServer.CertFiles(dir.resolve("srv.example.crt"), dir.resolve("srv.example.key"))),
                List.of(), ca, TlsServer.ClientAuth.REQUEST, 10_000);
        SSLContext client = client(PemFiles.certificates(dir.resolve("srv.example.crt")).get(0));
        assertFalse(connect(client, server, "TLSv1.3").resumed());
        assertTrue(connect(client, server, "TLSv1.3").resumed(), "same CA: the session resumes");
        assertEquals(List.of("tls: 443: certificates read again, unchanged"), server.reload());
        assertTrue(connect(client, server, "TLSv1.3").resumed(), "an unchanged CA keeps the sessions");
        certificate("ca.example", "two");
        assertEquals(List.of("tls: reloaded client CA for 443: 1 certificate(s) from " + ca + "; sessions made before cannot resume"), server.reload());
        assertFalse(connect(client, server, "TLSv1.3").resumed(), "a new CA: a full handshake, checked against it");
    }
}
