package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.Socket;
import org.junit.jupiter.api.Test;

/**
 * malloc refusing a forwarding buffer ends the one connection that needed it (reset, logged with
 * errno=ENOMEM, counted) and nothing else: the loop, its other connections and later clients go on.
 */
class BufferAllocFailureTest {
    /** An allocator with no memory left. */
    static final BufferPool.Allocator EXHAUSTED = new BufferPool.Allocator() {
        @Override
        public long allocate(int size) {
            return 0;
        }

        @Override
        public void free(long address) {
            BufferPool.MALLOC.free(address);
        }
    };

    @Test
    void aRefusedBufferResetsThatPairAndTheLoopServesOn() throws Exception {
        try (TestBackend backend = TestBackend.echo(); TestProxy proxy = new TestProxy(backend.port())) {
            try (Socket before = proxy.connect()) {
                before.getOutputStream().write('a'); // a pair already open keeps working throughout
                assertEquals('a', before.getInputStream().read());
                proxy.onLoop(0, fl -> {
                    fl.pool().trimTo(0); // nothing idle: the next buffer needs malloc
                    fl.pool().allocator(EXHAUSTED);
                    return null;
                });
                // The proxy reads a client as soon as it accepts it (speculative I/O), so the buffer is refused
                // then, and the reset may reach this client's connect, its write or its read.
                int r;
                try (Socket starved = proxy.connect()) {
                    starved.getOutputStream().write("needs a buffer".getBytes());
                    r = starved.getInputStream().read();
                } catch (IOException reset) {
                    r = -1;
                }
                assertEquals(-1, r, "the starved connection ends");
                proxy.awaitLog("end=error errno=ENOMEM");
                assertEquals(1L, (long) proxy.onLoop(0, fl -> fl.counters().bufferAllocFailures));
                assertEquals(0L, (long) proxy.onLoop(0, fl -> fl.loop().stats().copy().handlerFailures - 1), "one handler failure, logged");
                assertTrue(proxy.log().contains("malloc("), proxy.log());
                proxy.onLoop(0, fl -> {
                    fl.pool().allocator(BufferPool.MALLOC);
                    return null;
                });
                try (Socket after = proxy.connect()) {
                    assertArrayEquals("fine".getBytes(), AccessAndLimitsTest.echo(after, "fine"), "a later client is served");
                }
                before.getOutputStream().write('b');
                assertEquals('b', before.getInputStream().read(), "the pair open before was untouched");
            }
        }
    }
}
