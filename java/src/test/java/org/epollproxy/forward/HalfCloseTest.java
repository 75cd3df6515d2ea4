package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.InputStream;
import java.net.Socket;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A FIN is passed on as shutdown(SHUT_WR) and the other direction keeps flowing: the request/half-close/
 * response pattern (nc -N, HTTP/1.0 clients, docker CLI) that rinetd and socat's default cut short.
 */
class HalfCloseTest {
    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void clientHalfClosesThenReceivesTheWholeMebibyteResponse() throws Exception {
        byte[] response = random(1 << 20, 7);
        try (TestBackend backend = TestBackend.start(s -> {
                    byte[] request = s.getInputStream().readAllBytes(); // until the client's FIN
                    assertEquals("GET / HTTP/1.0\r\n\r\n", new String(request));
                    Thread.sleep(100); // the client has been half-closed for a while
                    s.getOutputStream().write(response);
                    s.close();
                });
                TestProxy proxy = new TestProxy(backend.port());
                Socket c = proxy.connect()) {
            c.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes());
            c.shutdownOutput();
            assertArrayEquals(response, c.getInputStream().readAllBytes());
            proxy.awaitLog("end=client-closed");
            proxy.awaitLog("up=18 down=" + response.length);
            assertEquals(0, backend.failures.size(), backend.failures.toString());
        }
    }

    @Test
    void backendSendsAMebibyteAndClosesAndTheClientGetsAllOfIt() throws Exception {
        byte[] data = random(1 << 20, 8);
        try (TestBackend backend = TestBackend.start(s -> {
                    s.getOutputStream().write(data);
                    s.close();
                });
                TestProxy proxy = new TestProxy(backend.port());
                Socket c = proxy.connect()) {
            InputStream in = c.getInputStream();
            assertArrayEquals(data, in.readAllBytes());
            c.close(); // our FIN completes the pair
            proxy.awaitLog("end=backend-closed");
        }
    }

    @Test
    void theOtherDirectionKeepsFlowingAfterAFin() throws Exception {
        try (TestBackend backend = TestBackend.start(s -> {
                    s.shutdownOutput(); // backend says it will send nothing more...
                    byte[] got = s.getInputStream().readAllBytes(); // ...but keeps reading
                    s.getInputStream().close();
                    if (got.length != 100_000) throw new AssertionError("backend got " + got.length);
                });
                TestProxy proxy = new TestProxy(backend.port());
                Socket c = proxy.connect()) {
            assertEquals(-1, c.getInputStream().read(), "the backend's FIN arrives");
            byte[] data = new byte[100_000];
            Arrays.fill(data, (byte) 9);
            c.getOutputStream().write(data);
            c.shutdownOutput();
            proxy.awaitLog("end=backend-closed");
            assertEquals(0, backend.failures.size(), backend.failures.toString());
        }
    }
}
