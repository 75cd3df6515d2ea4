package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.epollproxy.runtime.ProxyServer;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.InterposedKernel;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.Shim;
import org.junit.jupiter.api.Test;

/**
 * A loop that dies (an Error out of a handler, a failed epoll_wait) takes the whole proxy down: its
 * connections are reset, the other loop stops too, one log line names the loop and the cause, and
 * {@link ProxyServer#failure()} is set (the CLI turns it into exit status 70). Before, the dead loop's
 * thread ended quietly and the other loop served on with half of the SO_REUSEPORT group gone.
 */
class LoopDeathTest {

    /** The real shim with {@code fault} consulted before each call: a non-null result replaces the call. */
    static Kernel faulty(BiFunction<String, Object[], Object> fault) {
        Kernel real = Shim.load();
        return InterposedKernel.over(real, (name, args, call) -> {
            Object r = fault.apply(name, args);
            if (r != null) return r;
            return call.invoke();
        });
    }

    private static void diesLoudly(Function<AtomicBoolean, Kernel> kernel, String cause) throws Exception {
        diesLoudly(kernel, cause, Settings.builder().threads(2).build());
    }

    private static void diesLoudly(Function<AtomicBoolean, Kernel> kernel, String cause, Settings st) throws Exception {
        AtomicBoolean armed = new AtomicBoolean();
        try (TestBackend backend = TestBackend.echo(); TestProxy proxy = new TestProxy(kernel.apply(armed), st, backend.port())) {
            List<Socket> held = new ArrayList<>();
            for (int i = 0; i < 16; i++) { // 16 source ports: pairs on both loops (all on one: p = 2^-15)
                Socket s = proxy.connect();
                s.getOutputStream().write('x');
                assertEquals('x', s.getInputStream().read());
                held.add(s);
            }
            assertNull(proxy.proxy.failure());
            armed.set(true);
            proxy.proxy.loops().get(1).wakeup(); // out of the epoll_wait it blocks in, into the next one
            try (Socket trigger = proxy.connect()) { // wakes a listener (accept fault); epoll_wait fault needs no help
                assertTrue(proxy.proxy.awaitStopped(10, TimeUnit.SECONDS), "every loop ended after one died; log:\n" + proxy.log());
            } catch (IOException reset) {
                assertTrue(proxy.proxy.awaitStopped(10, TimeUnit.SECONDS), "every loop ended after one died; log:\n" + proxy.log());
            }
            String failure = proxy.proxy.failure();
            assertTrue(failure != null && failure.matches("loop [01] died: .*" + cause + ".*"), "failure: " + failure);
            String log = proxy.log();
            assertEquals(1, log.split("died", -1).length - 1, "one line names the dead loop:\n" + log);
            assertTrue(log.contains("epoll-proxy: " + failure + "; reset its "), log);
            for (Socket s : held) { // every pair, on the dead loop and on the stopped one, was reset
                int r;
                try {
                    r = s.getInputStream().read();
                } catch (IOException reset) {
                    r = -1;
                }
                assertEquals(-1, r);
                s.close();
            }
        }
    }

    @Test
    void anErrorFromAHandlerEndsTheProcessLoudly() throws Exception {
        diesLoudly(armed -> faulty((name, args) -> {
            if (name.equals("accept") && armed.compareAndSet(true, false)) throw new OutOfMemoryError("injected: Java heap space");
            return null;
        }), "OutOfMemoryError: injected");
    }

    /** The same on io_uring ({@code --io-uring}): a failed io_uring_enter is the loop's failed wait. */
    @Test
    void aFailedIoUringEnterEndsTheProcessLoudly() throws Exception {
        org.epollproxy.shim.Rings.assumeAllowed();
        diesLoudly(armed -> faulty((name, args) -> {
            if (name.equals("io_uring_enter") && Thread.currentThread().getName().equals("epoll-loop-1") && armed.get()) return -Errno.EBADF;
            return null;
        }), "io_uring_enter", Settings.builder().threads(2).ioUring(true).build());
    }

    @Test
    void aFailedEpollWaitEndsTheProcessLoudly() throws Exception {
        diesLoudly(armed -> faulty((name, args) -> {
            if (name.equals("epoll_wait") && Thread.currentThread().getName().equals("epoll-loop-1") && armed.get()) return -Errno.EBADF;
            return null;
        }), "epoll_wait");
    }
}
