package org.epollproxy.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The real jar under {@code ulimit -n 64}, offered more connections than it has fds for: it pauses
 * accepting (the rest wait in the kernel's backlog; a client accepted just as fds ran out waits for its
 * backend socket, up to --connect-timeout, instead of being dropped), logs
 * EMFILE once, does not spin its loop thread, and serves waiting and new connections once fds are free.
 */
class FdLimitIT {
    static final int FD_LIMIT = 64;
    static final int CLIENTS = 60; // two fds per connection: far more than 64 fds allow

    @Test
    void outOfFdsItPausesLogsOnceStaysIdleAndRecovers() throws Exception {
        AtomicInteger backendAccepted = new AtomicInteger();
        try (ServerSocket backend = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
                JarProcess p = JarProcess.withFdLimit(FD_LIMIT, "-L", "0:127.0.0.1:" + serveEcho(backend, backendAccepted))) {
            Matcher m = Pattern.compile("listening tcp 127\\.0\\.0\\.1:(\\d+) -> .*").matcher(p.nextLine());
            assertTrue(m.matches());
            int port = Integer.parseInt(m.group(1));
            long pid = p.process.pid();
            assertEquals("Max open files " + FD_LIMIT, limitLine(pid), "the limit applies to the proxy");

            List<Socket> clients = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                Socket c = new Socket();
                c.connect(new InetSocketAddress("127.0.0.1", port), 5000); // completes in the kernel's backlog
                c.setSoTimeout(20_000);
                clients.add(c);
            }
            long saturatedSince = System.nanoTime(); // no later than the first EMFILE: a bound in our favour
            await(() -> p.stderr().contains("EMFILE"), "the EMFILE log line", p);
            await(() -> stable(backendAccepted), "the accepted count to settle", p);
            int served = backendAccepted.get();
            assertTrue(served > 0 && served < CLIENTS, "served " + served + " of " + CLIENTS + " while out of fds");

            // Saturated: the loop thread must sleep through the back-off, not spin on the listener.
            long loop0 = ProcStat.threadCpuTicks(pid, "epoll-loop-0");
            long proc0 = ProcStat.processCpuTicks(pid);
            long t0 = System.nanoTime();
            Thread.sleep(2000);
            double seconds = (System.nanoTime() - t0) / 1e9;
            double loopCpu = (ProcStat.threadCpuTicks(pid, "epoll-loop-0") - loop0) / (double) ProcStat.CLOCK_TICKS_PER_SECOND / seconds;
            double procCpu = (ProcStat.processCpuTicks(pid) - proc0) / (double) ProcStat.CLOCK_TICKS_PER_SECOND / seconds;
            assertTrue(loopCpu < 0.25, "the loop thread used " + Math.round(loopCpu * 100) + "% of a core while out of fds");
            assertEquals(1, count(p.stderr(), "pausing this listener"), "EMFILE logged once per episode:\n" + p.stderr());
            assertEquals(served, backendAccepted.get(), "nothing more was served while out of fds");
            // With one fd free the proxy can accept but not open the backend socket: that client waits (Connector.parkForFd)
            // and the listener pauses; only a client still waiting at --connect-timeout is refused. At most one per
            // back-off, never the backlog at once.
            long saturatedMs = (System.nanoTime() - saturatedSince) / 1_000_000;
            int refused = count(p.stderr(), "errno=EMFILE");
            assertTrue(refused <= saturatedMs / 100 + 2, refused + " clients refused in " + saturatedMs + " ms:\n" + p.stderr());

            // Free the fds: clients still waiting in the backlog are served, and new clients too.
            for (int i = 0; i < served; i++) clients.get(i).close();
            int servedLater = 0;
            int refusedSeen = 0;
            for (int i = served; i < CLIENTS; i++) {
                if (echoes(clients.get(i), i)) servedLater++;
                else refusedSeen++;
                // Done with it: its fds go back to the proxy for the clients still waiting. (Keeping them all
                // open would leave the proxy out of fds again after `served` more, and whether the next one is
                // refused or waits would then depend on how many fds this JVM version opens for itself.)
                clients.get(i).close();
            }
            for (Socket c : clients) c.close();
            System.out.printf("fd-limit: under ulimit -n %d, %d of %d clients served at once, %d refused,"
                    + " %d served once fds were free; while saturated the loop thread used %.1f%% of a core, the JVM %.1f%%%n",
                    FD_LIMIT, served, CLIENTS, refusedSeen, servedLater, loopCpu * 100, procCpu * 100);
            assertTrue(servedLater > 0, "nobody waiting was served after fds were freed");
            assertEquals(count(p.stderr(), "errno=EMFILE"), refusedSeen, "every refused client was logged:\n" + p.stderr());
            try (Socket fresh = new Socket("127.0.0.1", port)) {
                fresh.setSoTimeout(20_000);
                assertTrue(echoes(fresh, 999), "a new client is served");
            }
            await(() -> p.stderr().contains("accepting again"), "the 'accepting again' line", p);
        }
    }

    private static int serveEcho(ServerSocket server, AtomicInteger accepted) {
        Thread t = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    accepted.incrementAndGet();
                    Thread h = new Thread(() -> {
                        try (s) {
                            s.getInputStream().transferTo(s.getOutputStream());
                        } catch (IOException ignored) {
                            // the client went away
                        }
                    });
                    h.setDaemon(true);
                    h.start();
                } catch (IOException e) {
                    return;
                }
            }
        });
        t.setDaemon(true);
        t.start();
        return server.getLocalPort();
    }

    /** True if {@code c} echoes a message; false if it was closed or reset (refused by the proxy). */
    private static boolean echoes(Socket c, int i) throws IOException {
        byte[] msg = ("hello " + i).getBytes();
        try {
            c.getOutputStream().write(msg);
            byte[] back = c.getInputStream().readNBytes(msg.length);
            if (back.length == 0) return false;
            assertArrayEquals(msg, back);
            return true;
        } catch (java.net.SocketException reset) {
            return false;
        }
    }

    private static String limitLine(long pid) throws IOException {
        for (String l : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc", Long.toString(pid), "limits"))) {
            if (l.startsWith("Max open files")) return l.replaceAll("\\s+", " ").replaceAll(" (\\d+) \\d+ files ?$", " $1").strip();
        }
        return "";
    }

    /** True once the counter has not moved for half a second. */
    private static boolean stable(AtomicInteger counter) {
        int before = counter.get();
        try {
            Thread.sleep(500);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return counter.get() == before && before > 0;
    }

    private static int count(String text, String what) {
        return text.split(Pattern.quote(what), -1).length - 1;
    }

    private static void await(BooleanSupplier cond, String what, JarProcess p) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > end) throw new AssertionError("timed out waiting for " + what + "; stderr:\n" + p.stderr());
            Thread.sleep(20);
        }
    }
}
