package org.epollproxy.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Traffic for the restart proofs: an echo backend, a client that opens, uses and closes connections in a
 * tight loop (counting refusals and resets), and long transfers checked with SHA-256 that are held in the
 * middle until the test releases them (so they are on the old process when it begins to drain).
 */
final class Traffic {

    /** Echoes every byte back; half-close aware (FIN after the client's FIN). */
    static final class Echo implements AutoCloseable {
        final ServerSocket server;

        Echo() throws IOException {
            server = new ServerSocket(0, 512, InetAddress.getLoopbackAddress());
            daemon(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket s = server.accept();
                        daemon(() -> {
                            try (s) {
                                s.getInputStream().transferTo(s.getOutputStream());
                                s.shutdownOutput();
                            } catch (IOException ignored) {
                                // the client went away
                            }
                        });
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        int port() {
            return server.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    static void daemon(Runnable r) {
        Thread t = new Thread(r);
        t.setDaemon(true);
        t.start();
    }

    /** Connect, send 100 bytes, read them back, close; again and again until stopped. */
    static final class TightLoop {
        final AtomicLong ok = new AtomicLong();
        final AtomicLong refused = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
        final AtomicLong maxMs = new AtomicLong();
        final List<String> errors = java.util.Collections.synchronizedList(new ArrayList<>());
        private final AtomicBoolean stop = new AtomicBoolean();
        private final CountDownLatch done = new CountDownLatch(1);

        TightLoop(int port) {
            daemon(() -> {
                byte[] msg = new byte[100];
                new Random(1).nextBytes(msg);
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60); // bounded whatever happens
                while (!stop.get() && System.nanoTime() < end) {
                    long t0 = System.nanoTime();
                    try (Socket s = new Socket()) {
                        s.connect(new java.net.InetSocketAddress("127.0.0.1", port), 20_000);
                        s.setSoTimeout(30_000);
                        s.getOutputStream().write(msg);
                        byte[] back = s.getInputStream().readNBytes(100);
                        if (!Arrays.equals(msg, back)) throw new IOException("echo differs (" + back.length + " bytes)");
                        ok.incrementAndGet();
                    } catch (ConnectException e) {
                        refused.incrementAndGet();
                        errors.add(e.toString());
                    } catch (IOException e) {
                        failed.incrementAndGet();
                        errors.add(e.toString());
                    }
                    maxMs.accumulateAndGet((System.nanoTime() - t0) / 1_000_000, Math::max);
                }
                done.countDown();
            });
        }

        /** Waits until {@code n} more round trips succeeded (or 30 s passed). */
        void awaitMore(long n) throws InterruptedException {
            long target = ok.get() + n;
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (ok.get() < target && System.nanoTime() < end) Thread.sleep(5);
        }

        void stop() throws InterruptedException {
            stop.set(true);
            done.await(40, TimeUnit.SECONDS);
        }

        @Override
        public String toString() {
            return ok + " ok, " + refused + " refused, " + failed + " reset/failed, slowest " + maxMs + " ms"
                    + (errors.isEmpty() ? "" : "; first error: " + errors.get(0));
        }
    }

    /**
     * Sends {@code size} random bytes through the proxy, the second half only after {@code release},
     * reads the echo and compares SHA-256; {@link #result} is "ok" or what went wrong.
     */
    static final class LongTransfer {
        final CountDownLatch halfway = new CountDownLatch(1);
        final CountDownLatch finished = new CountDownLatch(1);
        volatile String result = "not finished";

        LongTransfer(int port, int size, int seed, CountDownLatch release) {
            daemon(() -> {
                try (Socket s = new Socket("127.0.0.1", port)) {
                    s.setSoTimeout(30_000);
                    byte[] data = new byte[size];
                    new Random(seed).nextBytes(data);
                    MessageDigest back = MessageDigest.getInstance("SHA-256");
                    AtomicLong got = new AtomicLong();
                    Thread reader = new Thread(() -> {
                        try {
                            InputStream in = s.getInputStream();
                            byte[] b = new byte[65536];
                            int n;
                            while ((n = in.read(b)) > 0) {
                                back.update(b, 0, n);
                                got.addAndGet(n);
                            }
                        } catch (IOException e) {
                            got.set(-1);
                        }
                    });
                    reader.start();
                    OutputStream out = s.getOutputStream();
                    out.write(data, 0, size / 2);
                    halfway.countDown();
                    release.await();
                    out.write(data, size / 2, size - size / 2);
                    s.shutdownOutput();
                    reader.join(30_000);
                    byte[] want = MessageDigest.getInstance("SHA-256").digest(data);
                    result = got.get() != size ? "received " + got.get() + " of " + size + " bytes"
                            : Arrays.equals(want, back.digest()) ? "ok" : "SHA-256 differs";
                } catch (Exception e) {
                    result = e.toString();
                } finally {
                    halfway.countDown();
                    finished.countDown();
                }
            });
        }
    }

    private Traffic() {}
}
