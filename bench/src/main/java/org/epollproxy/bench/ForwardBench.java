package org.epollproxy.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import org.epollproxy.bench.fwd.BenchForwarder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The four forwarders ({@link BenchForwarder#KINDS}) side by side on loopback, in front of the same
 * in-process {@link EchoServer}. Each scenario state starts its own echo server and forwarder per trial.
 *
 * <ul>
 *   <li>{@code bulk}: one connection, a writer thread streams while the benchmark thread reads the echo;
 *       one op = 1 MiB echoed (1 MiB up and 1 MiB down through the forwarder).
 *   <li>{@code pingPong1}: one 64-byte request/response on one connection (sample time = latency).
 *   <li>{@code pingPong64}: 64 connections, a 64-byte request on each, then the 64 responses; one op =
 *       64 round trips in flight at once (sample time = the batch's latency).
 *   <li>{@code connectCycle}: connect, 64 bytes there and back, close; one op = one connection.
 * </ul>
 */
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xms256m", "-Xmx256m"})
public class ForwardBench {
    public static final int BULK_OP_BYTES = 1 << 20;
    public static final int CONNECTIONS = 64;

    /** An echo server and a forwarder in front of it, for one trial. */
    static final class Rig implements AutoCloseable {
        final EchoServer echo = new EchoServer(0);
        final BenchForwarder forwarder;

        Rig(String kind) {
            forwarder = BenchForwarder.start(kind, echo.port());
        }

        int port() {
            return forwarder.port();
        }

        @Override
        public void close() {
            forwarder.close();
            echo.close();
        }
    }

    @State(Scope.Thread)
    public static class Bulk {
        @Param({"direct", "epoll-proxy", "nio", "netty"})
        public String forwarder;

        Rig rig;
        SocketChannel ch;
        Thread writer;
        volatile boolean stopping;
        final ByteBuffer in = ByteBuffer.allocateDirect(BenchForwarder.BUFFER_SIZE);

        @Setup(Level.Trial)
        public void setup() throws IOException {
            rig = new Rig(forwarder);
            ch = Wire.connect(rig.port());
            writer = new Thread(this::stream, "bulk-writer");
            writer.setDaemon(true);
            writer.start();
        }

        private void stream() {
            ByteBuffer out = Wire.pattern(BenchForwarder.BUFFER_SIZE);
            try {
                while (!stopping) {
                    out.clear();
                    while (out.hasRemaining()) ch.write(out);
                }
            } catch (IOException e) {
                if (!stopping) throw new IllegalStateException("bulk writer failed", e);
            }
        }

        @TearDown(Level.Trial)
        public void teardown() throws IOException, InterruptedException {
            stopping = true;
            ch.close();
            writer.join(5000);
            rig.close();
        }
    }

    @State(Scope.Thread)
    public static class OneConnection {
        @Param({"direct", "epoll-proxy", "nio", "netty"})
        public String forwarder;

        Rig rig;
        SocketChannel ch;
        final ByteBuffer out = Wire.pattern(Wire.MESSAGE_SIZE);
        final ByteBuffer in = ByteBuffer.allocateDirect(Wire.MESSAGE_SIZE);

        @Setup(Level.Trial)
        public void setup() throws IOException {
            rig = new Rig(forwarder);
            ch = Wire.connect(rig.port());
        }

        @TearDown(Level.Trial)
        public void teardown() throws IOException {
            ch.close();
            rig.close();
        }
    }

    @State(Scope.Thread)
    public static class ManyConnections {
        @Param({"direct", "epoll-proxy", "nio", "netty"})
        public String forwarder;

        Rig rig;
        final SocketChannel[] chs = new SocketChannel[CONNECTIONS];
        final ByteBuffer out = Wire.pattern(Wire.MESSAGE_SIZE);
        final ByteBuffer in = ByteBuffer.allocateDirect(Wire.MESSAGE_SIZE);

        @Setup(Level.Trial)
        public void setup() throws IOException {
            rig = new Rig(forwarder);
            for (int i = 0; i < CONNECTIONS; i++) chs[i] = Wire.connect(rig.port());
        }

        @TearDown(Level.Trial)
        public void teardown() throws IOException {
            for (SocketChannel ch : chs) ch.close();
            rig.close();
        }
    }

    @State(Scope.Thread)
    public static class Connections {
        @Param({"direct", "epoll-proxy", "nio", "netty"})
        public String forwarder;

        Rig rig;
        final ByteBuffer out = Wire.pattern(Wire.MESSAGE_SIZE);
        final ByteBuffer in = ByteBuffer.allocateDirect(Wire.MESSAGE_SIZE);

        @Setup(Level.Trial)
        public void setup() {
            rig = new Rig(forwarder);
        }

        @TearDown(Level.Trial)
        public void teardown() {
            rig.close();
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public int bulk(Bulk s) throws IOException {
        int total = 0;
        while (total < BULK_OP_BYTES) {
            s.in.clear().limit(Math.min(s.in.capacity(), BULK_OP_BYTES - total));
            int n = s.ch.read(s.in);
            if (n < 0) throw new IOException("bulk connection closed");
            total += n;
        }
        return total;
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public ByteBuffer pingPong1(OneConnection s) throws IOException {
        Wire.roundTrip(s.ch, s.out, s.in);
        return s.in;
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public ByteBuffer pingPong64(ManyConnections s) throws IOException {
        for (SocketChannel ch : s.chs) Wire.writeFully(ch, s.out);
        for (SocketChannel ch : s.chs) Wire.readFully(ch, s.in);
        return s.in;
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public ByteBuffer connectCycle(Connections s) throws IOException {
        try (SocketChannel ch = Wire.connect(s.rig.port())) {
            Wire.roundTrip(ch, s.out, s.in);
        }
        return s.in;
    }
}
