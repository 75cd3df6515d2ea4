package org.epollproxy.bench.fwd;

/**
 * One forwarder under test, running in this JVM on 127.0.0.1 and forwarding to one backend port.
 * Every implementation uses {@link #BUFFER_SIZE} bytes per direction and one event-loop thread.
 */
public interface BenchForwarder extends AutoCloseable {
    /** Bytes per direction buffer, the same for every forwarder (the project's default). */
    int BUFFER_SIZE = 64 * 1024;

    /** The names {@link #start} knows, in the order tables list them. */
    String[] KINDS = {"direct", "epoll-proxy", "nio", "netty"};

    /** The port clients connect to. */
    int port();

    @Override
    void close();

    /** Starts forwarder {@code kind} ({@link #KINDS}) to 127.0.0.1:{@code backendPort}. */
    static BenchForwarder start(String kind, int backendPort) {
        switch (kind) {
            case "direct":
                return new Direct(backendPort);
            case "epoll-proxy":
                return new ProjectForwarder(backendPort);
            case "nio":
                return new NioForwarder(backendPort);
            case "netty":
                return new NettyForwarder(backendPort);
            default:
                throw new IllegalArgumentException("unknown forwarder " + kind + "; known: " + String.join(", ", KINDS));
        }
    }

    /** No forwarder: clients talk to the backend itself (the physical limit of the other three). */
    final class Direct implements BenchForwarder {
        private final int port;

        Direct(int port) {
            this.port = port;
        }

        @Override
        public int port() {
            return port;
        }

        @Override
        public void close() {}
    }
}
