package org.epollproxy.forward;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** A backend for tests: a blocking ServerSocket on 127.0.0.1 running {@code handler} in a thread per connection. */
final class TestBackend implements AutoCloseable {
    interface ConnectionHandler {
        void handle(Socket s) throws Exception;
    }

    private final ServerSocket server;
    private final Thread acceptor;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    final AtomicInteger accepted = new AtomicInteger();
    final List<Throwable> failures = new CopyOnWriteArrayList<>();

    private TestBackend(ConnectionHandler handler) throws IOException {
        server = new ServerSocket(0, 1024, InetAddress.getLoopbackAddress());
        acceptor = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    accepted.incrementAndGet();
                    sockets.add(s);
                    Thread t = new Thread(() -> {
                        try {
                            handler.handle(s);
                        } catch (Throwable e) {
                            failures.add(e);
                        } finally {
                            try {
                                s.close();
                            } catch (IOException ignored) {
                                // already closed by the handler
                            }
                        }
                    }, "backend-conn");
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return; // closed
                }
            }
        }, "backend-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    static TestBackend start(ConnectionHandler handler) throws IOException {
        return new TestBackend(handler);
    }

    /** Echoes every byte until the client's FIN, then closes. */
    static TestBackend echo() throws IOException {
        return start(s -> {
            byte[] b = new byte[65536];
            int n;
            while ((n = s.getInputStream().read(b)) > 0) s.getOutputStream().write(b, 0, n);
            s.shutdownOutput();
        });
    }

    int port() {
        return server.getLocalPort();
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) s.close();
    }
}
