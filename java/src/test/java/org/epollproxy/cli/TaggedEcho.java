package org.epollproxy.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;

/** A test backend that answers every chunk it reads with "TAG:" + the chunk, so a test sees which backend served. */
final class TaggedEcho implements AutoCloseable {
    /**
     * The threads that serve the backends' connections, kept for the next one: a test under steady load
     * (DynamicBackendsIT.Load) makes thousands of short connections, and a thread started for each cost the
     * test JVM more CPU than the proxy it tests.
     */
    static final java.util.concurrent.ExecutorService SERVERS = java.util.concurrent.Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "backend");
        t.setDaemon(true);
        return t;
    });

    private final ServerSocket server;
    private final String tag;

    TaggedEcho(String tag) throws IOException {
        this.tag = tag;
        this.server = new ServerSocket(0, 100, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::acceptLoop, "echo-" + tag);
        t.setDaemon(true);
        t.start();
    }

    int port() {
        return server.getLocalPort();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                SERVERS.execute(() -> serve(s));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            byte[] b = new byte[4096];
            int n;
            while ((n = in.read(b)) > 0) {
                byte[] reply = new byte[tag.length() + 1 + n];
                System.arraycopy((tag + ":").getBytes(), 0, reply, 0, tag.length() + 1);
                System.arraycopy(b, 0, reply, tag.length() + 1, n);
                out.write(reply);
            }
        } catch (IOException ignored) {
            // client went away
        }
    }

    /** Sends {@code text} on {@code s} and returns the reply to it: bytes read until they end with the text. */
    static String ask(Socket s, String text) throws IOException {
        s.getOutputStream().write(text.getBytes());
        StringBuilder reply = new StringBuilder();
        byte[] b = new byte[4096];
        while (!reply.toString().endsWith(text)) {
            int n = s.getInputStream().read(b);
            if (n < 0) return reply + "<EOF>";
            reply.append(new String(b, 0, n));
        }
        return reply.toString();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
