import java.io.FileInputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * What the JDK's SSLEngine alone costs, without sockets, loop or proxy: a server and a client engine in one
 * thread, talking through heap buffers. It prints the server engine's CPU (this thread's CPU time around the
 * server's calls only) per full TLS 1.3 handshake (ECDSA P-256 certificate, the JDK client's default key share
 * x25519), and per MiB of TLS_AES_128_GCM_SHA256 records (16 KiB each) wrapped and unwrapped, with the
 * application buffers direct (as epoll-proxy gives them: views of native memory) and on the heap.
 * Rounds after the first few are the warmed-up figure. Run by bench/tls-engine.sh.
 *
 * <p>Usage: java TlsEngineCost.java KEYSTORE.p12 PASSWORD HANDSHAKES MIB ROUNDS
 */
public class TlsEngineCost {
    static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();
    static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    public static void main(String[] a) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (FileInputStream in = new FileInputStream(a[0])) {
            ks.load(in, a[1].toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance("SunX509");
        kmf.init(ks, a[1].toCharArray());
        SSLContext server = SSLContext.getInstance("TLS");
        server.init(kmf.getKeyManagers(), null, null);
        SSLContext client = SSLContext.getInstance("TLS");
        client.init(null, new TrustManager[] {new TrustAnything()}, null);
        int handshakes = Integer.parseInt(a[2]), mib = Integer.parseInt(a[3]), rounds = Integer.parseInt(a[4]);
        System.out.println("JDK " + System.getProperty("java.version"));
        for (int r = 1; r <= rounds; r++) {
            long ns = 0;
            for (int i = 0; i < handshakes; i++) ns += new Pair(server, client).handshake();
            System.out.printf("round %d: full handshake %.3f ms server CPU%n", r, ns / 1e6 / handshakes);
        }
        Pair p = new Pair(server, client);
        p.handshake();
        for (int r = 1; r <= rounds; r++) {
            for (boolean direct : new boolean[] {true, false}) {
                long[] ns = p.bulk(mib, direct);
                System.out.printf("round %d: %s buffers: wrap %.3f ms, unwrap %.3f ms server CPU per MiB%n", r, direct ? "direct" : "heap  ",
                        ns[0] / 1e6 / mib, ns[1] / 1e6 / mib);
            }
        }
    }

    /** A server engine and a client engine joined by two heap buffers of records. */
    static final class Pair {
        final SSLEngine s;
        final SSLEngine c;
        final ByteBuffer toServer = ByteBuffer.allocate(1 << 17);
        final ByteBuffer toClient = ByteBuffer.allocate(1 << 17);
        final ByteBuffer scratch = ByteBuffer.allocate(1 << 17);

        Pair(SSLContext server, SSLContext client) {
            s = server.createSSLEngine();
            s.setUseClientMode(false);
            s.setEnabledProtocols(new String[] {"TLSv1.3"});
            s.setEnabledCipherSuites(new String[] {"TLS_AES_128_GCM_SHA256"});
            c = client.createSSLEngine();
            c.setUseClientMode(true);
            c.setEnabledProtocols(new String[] {"TLSv1.3"});
        }

        /** Runs the handshake to its end; returns the server engine's CPU nanoseconds. */
        long handshake() throws Exception {
            s.beginHandshake();
            c.beginHandshake();
            long serverNs = 0;
            for (int i = 0; i < 100; i++) {
                step(c, toClient, toServer);
                long t0 = CPU.getCurrentThreadCpuTime();
                step(s, toServer, toClient);
                serverNs += CPU.getCurrentThreadCpuTime() - t0;
                if (idle(s) && idle(c) && toServer.position() == 0 && toClient.position() == 0) return serverNs;
            }
            throw new IllegalStateException("the handshake did not finish");
        }

        static boolean idle(SSLEngine e) {
            return e.getHandshakeStatus() == HandshakeStatus.NOT_HANDSHAKING;
        }

        /** Everything one engine does with what it received: unwrap, tasks, wrap. */
        void step(SSLEngine e, ByteBuffer in, ByteBuffer out) throws Exception {
            tasks(e);
            while (e.getHandshakeStatus() == HandshakeStatus.NEED_WRAP) e.wrap(EMPTY, out);
            in.flip();
            while (in.hasRemaining()) {
                scratch.clear();
                if (e.unwrap(in, scratch).bytesConsumed() == 0) break;
                tasks(e);
                while (e.getHandshakeStatus() == HandshakeStatus.NEED_WRAP) e.wrap(EMPTY, out);
            }
            in.compact();
        }

        static void tasks(SSLEngine e) {
            Runnable t;
            while ((t = e.getDelegatedTask()) != null) t.run();
        }

        /** MIB MiB of 16 KiB records from the server to the client: the server's wrap and the client's unwrap CPU. */
        long[] bulk(int mib, boolean direct) throws Exception {
            ByteBuffer plain = direct ? ByteBuffer.allocateDirect(32768) : ByteBuffer.allocate(32768);
            ByteBuffer wire = direct ? ByteBuffer.allocateDirect(32768) : ByteBuffer.allocate(32768);
            ByteBuffer back = direct ? ByteBuffer.allocateDirect(32768) : ByteBuffer.allocate(32768);
            long wrapNs = 0, unwrapNs = 0;
            for (long done = 0; done < (long) mib << 20; ) {
                plain.clear().limit(16384);
                wire.clear();
                long t0 = CPU.getCurrentThreadCpuTime();
                done += s.wrap(plain, wire).bytesConsumed();
                long t1 = CPU.getCurrentThreadCpuTime();
                wire.flip();
                back.clear();
                c.unwrap(wire, back);
                unwrapNs += CPU.getCurrentThreadCpuTime() - t1;
                wrapNs += t1 - t0;
            }
            return new long[] {wrapNs, unwrapNs};
        }
    }

    /** The client side of this measurement checks nothing: only the server's cost is measured. */
    static final class TrustAnything implements X509TrustManager {
        public void checkClientTrusted(X509Certificate[] chain, String type) {}

        public void checkServerTrusted(X509Certificate[] chain, String type) {}

        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
