package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.epollproxy.shim.Epoll;
import org.epollproxy.shim.SockAddr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * A reload is all or nothing on every loop: when one loop fails part-way through applying it (here its
 * second new listener cannot join the epoll set), the listeners it and the other loop already started
 * are stopped, every new socket is closed, changed forwards keep their old backends and the running set
 * is what it was. Before, the sockets leaked and {@code forwards()} already listed the new forwards.
 */
@Isolated("counts the JVM's open sockets")
class ReloadAtomicityTest {

    /**
     * The JVM's open sockets: what a reload opens. Counting every fd failed once under load (54, then 55)
     * with no socket more: the JVM may open a file of its own meanwhile (a jar, a class archive).
     */
    static long openSockets() throws Exception {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().startsWith("socket:");
                } catch (java.io.IOException gone) {
                    return false; // closed since the listing (or the listing's own fd)
                }
            }).count();
        }
    }

    static String describe(List<Forward> fs) {
        StringBuilder sb = new StringBuilder();
        for (Forward f : fs) sb.append(f.key()).append(" -> ").append(f.backends()).append('\n');
        return sb.toString();
    }

    /** The same forward (its key: 127.0.0.1 port 0 of origin "main") to {@code backendPort}. */
    static Forward main(int backendPort) {
        return new Forward(Forward.Proto.TCP, SockAddr.parse("127.0.0.1", 0), List.of(TestProxy.backend(backendPort)),
                AccessRules.ALLOW_ALL, -1, null, "main");
    }

    @Test
    void aReloadThatFailsOnOneLoopChangesNothingAndLeaksNoFd() throws Exception {
        AtomicBoolean armed = new AtomicBoolean();
        AtomicInteger listenerAdds = new AtomicInteger();
        Settings st = Settings.builder().threads(2).build();
        try (TestBackend a = TestBackend.echo(); TestBackend b = TestBackend.echo();
                TestProxy proxy = new TestProxy(LoopDeathTest.faulty((name, args) -> {
                    boolean listenerJoins = name.equals("epoll_ctl") && (Integer) args[1] == Epoll.EPOLL_CTL_ADD
                            && (Integer) args[3] == Epoll.EPOLLIN && Thread.currentThread().getName().equals("epoll-loop-1");
                    if (armed.get() && listenerJoins && listenerAdds.incrementAndGet() == 2) {
                        throw new IllegalStateException("injected: epoll_ctl of the second new listener");
                    }
                    return null;
                }), st, List.of(main(a.port())))) {
            List<Forward> desired = List.of(
                    main(b.port()), // the running forward, to another backend
                    new Forward(SockAddr.parse("127.0.0.2", 0), List.of(TestProxy.backend(a.port()))),
                    new Forward(SockAddr.parse("127.0.0.3", 0), List.of(TestProxy.backend(a.port()))));
            String running = describe(proxy.proxy.forwards());
            String loop0 = describe(proxy.onLoop(0, ForwardingLoop::forwards));
            String loop1 = describe(proxy.onLoop(1, ForwardingLoop::forwards));
            long sockets = openSockets();

            armed.set(true);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> proxy.proxy.reconfigure(desired));
            assertTrue(e.getMessage().contains("loop 1") && e.getMessage().contains("injected"), e.getMessage());
            armed.set(false);

            assertEquals(sockets, openSockets(), "every socket the failed reload opened is closed");
            assertEquals(running, describe(proxy.proxy.forwards()), "the running set is unchanged");
            assertEquals(loop0, describe(proxy.onLoop(0, ForwardingLoop::forwards)), "loop 0 undid its part");
            assertEquals(loop1, describe(proxy.onLoop(1, ForwardingLoop::forwards)), "loop 1 undid its part");
            for (int i = 0; i < 8; i++) { // still served by the old backend, on whichever loop
                try (Socket c = proxy.connect()) {
                    assertArrayEquals("old".getBytes(), AccessAndLimitsTest.echo(c, "old"));
                }
            }
            assertEquals(0, b.accepted.get(), "no connection went to the backend of the failed reload");

            assertEquals("2 added, 0 removed, 1 changed, 0 unchanged", proxy.proxy.reconfigure(desired), "the same reload, unfaulted");
            assertEquals(3, proxy.proxy.forwards().size());
        }
    }
}
