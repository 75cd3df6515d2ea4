package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import java.io.InputStream;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

/** Clients that vanish with an RST mid-transfer leave nothing behind: every fd is closed, every buffer returned. */
@Isolated("counts the JVM's open fds")
class ResetStormTest {

    static int openFds() {
        String[] fds = new File("/proc/self/fd").list();
        return fds == null ? -1 : fds.length;
    }

    @Test
    void twoHundredClientsResettingMidTransferLeaveTheFdCountAtItsBaseline() throws Exception {
        try (TestBackend backend = TestBackend.start(s -> {
                    byte[] chunk = new byte[32 * 1024];
                    try {
                        while (true) s.getOutputStream().write(chunk); // until the proxy aborts us
                    } catch (java.io.IOException expected) {
                        // reset by the proxy after the client's RST
                    }
                });
                TestProxy proxy = new TestProxy(backend.port())) {
            // warm up once so lazily opened JDK/jffi files are not counted as leaks
            try (Socket w = proxy.connect()) {
                w.getInputStream().read(new byte[10]);
            }
            TestProxy.await(() -> proxy.proxy.openConnections() == 0, "warm-up pair closed");
            TestProxy.await(() -> backend.accepted.get() == 1, "warm-up backend");
            Thread.sleep(100);
            int baseline = openFds();

            List<Socket> clients = new ArrayList<>();
            for (int i = 0; i < 200; i++) clients.add(proxy.connect());
            for (Socket c : clients) {
                InputStream in = c.getInputStream();
                byte[] b = new byte[4096];
                int got = 0;
                while (got < 10_000) got += in.read(b); // mid-transfer
                c.setSoLinger(true, 0);
                c.close(); // RST, with unread data in flight
            }
            TestProxy.await(() -> proxy.proxy.openConnections() == 0, "every pair closed");
            // At most the baseline: a leak adds fds; a JDK file that happened to be open at the baseline may
            // have closed since, which is no leak.
            TestProxy.await(() -> openFds() <= baseline, "fd count back to " + baseline + " (now " + openFds() + ")");
            assertEquals(0, proxy.proxy.forwardingLoops().get(0).pool().inUse(), "every buffer returned");
            int resets = proxy.log().split("end=client-reset", -1).length - 1;
            assertEquals(201, resets, "one client-reset line per reset client, plus the warm-up's");
        }
    }
}
