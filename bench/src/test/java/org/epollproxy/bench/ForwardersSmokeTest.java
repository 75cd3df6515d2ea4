package org.epollproxy.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.epollproxy.bench.fwd.BenchForwarder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every forwarder the benchmarks compare moves bytes correctly: what the benchmarks measure is real
 * forwarding, not a fast way of losing data. No timing is asserted.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ForwardersSmokeTest {

    /** More than the 64 KiB per-direction buffer, so backpressure and partial writes happen. */
    private static final int BULK = 300 * 1024;

    @ParameterizedTest
    @ValueSource(strings = {"direct", "epoll-proxy", "nio", "netty"})
    void echoesBulkBytesInOrderAndPassesTheFinOn(String kind) throws Exception {
        try (EchoServer echo = new EchoServer(0); BenchForwarder fwd = BenchForwarder.start(kind, echo.port());
                SocketChannel ch = Wire.connect(fwd.port())) {
            byte[] sent = new byte[BULK];
            new Random(kind.hashCode()).nextBytes(sent);
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    ByteBuffer out = ByteBuffer.wrap(sent);
                    while (out.hasRemaining()) ch.write(out);
                    ch.shutdownOutput(); // FIN: through the forwarder to the echo server, which then closes
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            ByteBuffer in = ByteBuffer.allocate(BULK);
            Wire.readFully(ch, in);
            writer.get(30, TimeUnit.SECONDS);
            assertArrayEquals(sent, in.array(), kind + ": echoed bytes differ");
            assertEquals(-1, ch.read(ByteBuffer.allocate(1)), kind + ": the backend's close must reach the client as EOF");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"direct", "epoll-proxy", "nio", "netty"})
    void servesOneRoundTripPerConnectionManyTimes(String kind) throws Exception {
        try (EchoServer echo = new EchoServer(0); BenchForwarder fwd = BenchForwarder.start(kind, echo.port())) {
            ByteBuffer out = Wire.pattern(Wire.MESSAGE_SIZE);
            ByteBuffer in = ByteBuffer.allocateDirect(Wire.MESSAGE_SIZE);
            for (int i = 0; i < 50; i++) {
                try (SocketChannel ch = Wire.connect(fwd.port())) {
                    Wire.roundTrip(ch, out, in);
                    assertEquals(0, in.flip().compareTo(out.clear()), kind + ": round trip " + i + " returned other bytes");
                }
            }
        }
    }
}
