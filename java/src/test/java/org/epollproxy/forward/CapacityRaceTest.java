package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.epollproxy.shim.InterposedKernel;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.Shim;
import org.junit.jupiter.api.Test;

/**
 * {@code --max-connections} with {@code --threads 2}: both loops see the last free place at the same
 * moment. A kernel whose accept holds each loop right after a successful accept until the other loop has
 * accepted too (or 500 ms passed) makes that moment certain: a cap checked in one step and counted in
 * another lets both loops in (2 open at a cap of 1); a place reserved before accept lets one in.
 */
class CapacityRaceTest {

    @Test
    void theCapHoldsExactlyWhenTwoLoopsRaceForTheLastPlace() throws Exception {
        CountDownLatch bothAccepted = new CountDownLatch(2);
        AtomicInteger accepts = new AtomicInteger();
        Kernel real = Shim.load();
        Kernel racing = InterposedKernel.over(real, (name, args, call) -> {
            Object r = call.invoke();
            if (name.equals("accept") && (Integer) r >= 0) {
                accepts.incrementAndGet();
                bothAccepted.countDown();
                bothAccepted.await(500, TimeUnit.MILLISECONDS);
            }
            return r;
        });
        Settings st = Settings.builder().threads(2).maxConnections(1).build();
        List<Socket> clients = new ArrayList<>();
        try (TestBackend backend = TestBackend.start(s -> s.getInputStream().read());
                TestProxy proxy = new TestProxy(racing, st, backend.port())) {
            // 20 source ports: the kernel hashes them over both loops' listeners (all on one: p = 2^-19).
            for (int i = 0; i < 20; i++) clients.add(proxy.connect());
            TestProxy.await(() -> backend.accepted.get() >= 1, "the first connection reached the backend");
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(800); // past the 500 ms hold
            while (System.nanoTime() < end) {
                assertTrue(proxy.proxy.openConnections() <= 1, "open connections over the cap of 1: " + proxy.proxy.openConnections());
                Thread.sleep(5);
            }
            assertEquals(1, accepts.get(), "accepted while at the cap");
            assertEquals(1, backend.accepted.get(), "backend connections at a cap of 1");
            assertEquals(1, proxy.proxy.openConnections());
        } finally {
            for (Socket c : clients) c.close();
        }
    }
}
