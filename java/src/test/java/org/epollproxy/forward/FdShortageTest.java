package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Socket;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.InterposedKernel;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.Shim;
import org.junit.jupiter.api.Test;

/**
 * A client accepted just as the process runs out of fds (its backend socket() says EMFILE) is not
 * dropped: it waits like a pending connect, its bytes are kept, the socket is retried after each
 * back-off, and it is served once an fd is free; only past --connect-timeout is it given up.
 */
class FdShortageTest {

    /** The real shim, except that backend socket() calls fail with EMFILE while {@code short} is set. */
    static Kernel shortOfFds(Kernel real, AtomicBoolean shortOfFds, AtomicInteger refusals) {
        return InterposedKernel.over(real, (name, args, call) -> {
            if (name.equals("socket") && shortOfFds.get()) {
                refusals.incrementAndGet();
                return -Errno.EMFILE;
            }
            return call.invoke();
        });
    }

    @Test
    void aClientAcceptedWithoutAnFdForItsBackendWaitsAndIsServedOnceOneIsFree() throws Exception {
        AtomicBoolean shortage = new AtomicBoolean();
        AtomicInteger refusals = new AtomicInteger();
        try (TestBackend backend = TestBackend.echo();
                TestProxy proxy = new TestProxy(shortOfFds(Shim.load(), shortage, refusals), Settings.DEFAULTS, backend.port())) {
            shortage.set(true); // from now on (the listener is bound already)
            try (Socket c = proxy.connect()) {
                c.getOutputStream().write("early bytes".getBytes()); // sent while the proxy has no backend socket
                TestProxy.await(() -> refusals.get() >= 3, "a few retries of the backend socket");
                assertEquals(0, backend.accepted.get());
                assertFalse(proxy.log().contains("end="), "the client was not dropped:\n" + proxy.log());
                assertTrue(proxy.log().contains("EMFILE"), "the shortage is logged:\n" + proxy.log());
                shortage.set(false); // an fd is free again
                c.shutdownOutput();
                assertArrayEquals("early bytes".getBytes(), c.getInputStream().readAllBytes());
            }
            proxy.awaitLog("end=client-closed");
        }
    }

    @Test
    void pastTheConnectTimeoutTheWaitingClientIsGivenUp() throws Exception {
        Settings st = Settings.builder().connectTimeoutMs(400).build();
        AtomicBoolean shortage = new AtomicBoolean();
        try (TestBackend backend = TestBackend.echo();
                TestProxy proxy = new TestProxy(shortOfFds(Shim.load(), shortage, new AtomicInteger()), st, backend.port())) {
            shortage.set(true);
            try (Socket c = proxy.connect()) {
                assertEquals(-1, c.getInputStream().read(), "closed once the connect timeout passed");
            }
            proxy.awaitLog("end=error errno=EMFILE");
        }
    }
}
