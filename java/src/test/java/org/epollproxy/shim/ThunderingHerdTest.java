package org.epollproxy.shim;

import static org.epollproxy.shim.Epoll.EPOLLET;
import static org.epollproxy.shim.Epoll.EPOLLEXCLUSIVE;
import static org.epollproxy.shim.Epoll.EPOLLIN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * Lesson 21: several loops on one port, and the thundering herd. N threads, each blocked in epoll_wait on
 * its own instance, watch one listening socket; the lesson counts how many of them wake per connection.
 * <ul>
 *   <li>Plainly registered: all N wake (lesson 11), and all but one find nothing to accept.
 *   <li>With EPOLLEXCLUSIVE (Linux 4.5): the kernel wakes the first instance that has a thread waiting,
 *       and stops there: one, or a few when a waiter was not yet back in epoll_wait.
 *   <li>With SO_REUSEPORT: N listening sockets on the port, one per instance; the kernel hashes each
 *       connection to one socket, so exactly one instance ever hears of it. This is what epoll-proxy does
 *       ({@code --threads}: one listening socket per loop, {@code ListeningSockets.bindAll}).
 * </ul>
 * Registrations are edge-triggered so that a waiter reports each connection once even before it is
 * accepted (level-triggered, it would report it again on every wait until then). Qualitative asserts
 * only: waiters are seen blocked in {@code /proc/self/task/<tid>} before each connection, never timed.
 */
@Isolated // it counts its threads' wake-ups and reads their kernel state
class ThunderingHerdTest extends EpollLesson {
    static final int LOOPS = 4;
    static final int CONNECTIONS = 20;
    static final long STOP = -1;

    @Test
    void withoutExclusiveEveryInstanceWakesForEachConnection() throws Exception {
        int l = net.listener();
        int woken = wakeups(new int[] {l, l, l, l}, EPOLLIN | EPOLLET);
        assertEquals(LOOPS * CONNECTIONS, woken, "every loop woke for every connection: the herd");
    }

    @Test
    void withExclusiveAboutOneInstanceWakesForEachConnection() throws Exception {
        int l = net.listener();
        int woken = wakeups(new int[] {l, l, l, l}, EPOLLIN | EPOLLET | EPOLLEXCLUSIVE);
        assertTrue(woken >= CONNECTIONS, "each connection woke someone: " + woken);
        assertTrue(woken < LOOPS * CONNECTIONS / 2, woken + " wake-ups for " + CONNECTIONS + " connections: about one each");
    }

    @Test
    void withReuseportExactlyOneInstanceHearsOfEachConnection() throws Exception {
        int[] sockets = new int[LOOPS];
        for (int i = 0; i < LOOPS; i++) {
            sockets[i] = net.tcpSocket();
            assertEquals(0, net.k.setsockopt_int(sockets[i], Net.SOL_SOCKET, Net.SO_REUSEPORT, 1));
            if (i == 0) SockAddr.parse("127.0.0.1", 0).write(net.addr.buffer(), 0); // then the port the first got
            assertEquals(0, net.k.bind(sockets[i], net.addr.address()));
            assertEquals(0, net.k.listen(sockets[i], 64));
            assertEquals(0, net.k.getsockname(sockets[i], net.addr.address()));
        }
        int woken = wakeups(sockets, EPOLLIN | EPOLLET);
        assertEquals(CONNECTIONS, woken, "one wake-up per connection, always");
    }

    /**
     * Runs one waiter thread per instance (instance i watches {@code listeners[i]}), makes
     * {@link #CONNECTIONS} connections one at a time, each once every waiter is blocked, and returns how
     * many times a waiter woke with the listening socket's event.
     */
    private int wakeups(int[] listeners, int mask) throws Exception {
        AtomicInteger woken = new AtomicInteger();
        int stopFd = net.track(net.k.eventfd());
        List<Epoll> instances = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        int[] tids = new int[LOOPS];
        try {
            for (int i = 0; i < LOOPS; i++) {
                Epoll e = Epoll.open(net.k, 4);
                instances.add(e);
                assertEquals(0, e.add(listeners[i], mask, 1));
                assertEquals(0, e.add(stopFd, EPOLLIN, STOP));
                int self = i;
                Thread t = new Thread(() -> waiter(e, tids, self, woken), "herd-" + i);
                threads.add(t);
                t.start();
            }
            for (int c = 0; c < CONNECTIONS; c++) {
                awaitAllBlocked(tids);
                int before = woken.get();
                int client = connect();
                long deadline = System.nanoTime() + 30_000_000_000L;
                while (woken.get() == before) { // someone heard of it...
                    assertTrue(System.nanoTime() < deadline, "no waiter woke for connection " + c);
                    Loopback.sleep(1);
                }
                awaitAllBlocked(tids); // ...and everyone woken has collected its event and sleeps again
                accept(listeners);
                net.closeNow(client);
            }
            System.out.println("thundering herd, " + Epoll.describe(mask) + ", " + (listeners[0] == listeners[1] ? "one socket" : "SO_REUSEPORT")
                    + ": " + woken.get() + " wake-ups of " + LOOPS + " loops for " + CONNECTIONS + " connections");
            return woken.get();
        } finally {
            net.k.eventfd_write(stopFd);
            for (Thread t : threads) t.join(30_000);
            for (Epoll e : instances) e.close();
        }
    }

    private void waiter(Epoll e, int[] tids, int self, AtomicInteger woken) {
        synchronized (tids) {
            tids[self] = net.k.gettid();
        }
        while (true) {
            int n = e.wait(-1);
            if (n < 0) return; // cannot happen while the instance is open; never spin on it
            for (int i = 0; i < n; i++) {
                if (e.token(i) == STOP) return;
                woken.incrementAndGet();
            }
        }
    }

    /** Until every waiter sleeps inside epoll_wait, as its /proc entry shows (a generous deadline). */
    private static void awaitAllBlocked(int[] tids) throws IOException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        for (int i = 0; i < tids.length; i++) {
            while (!blockedInEpollWait(tids, i)) {
                assertTrue(System.nanoTime() < deadline, "waiter " + i + " never blocked in epoll_wait");
                Loopback.sleep(1);
            }
        }
    }

    private static boolean blockedInEpollWait(int[] tids, int i) throws IOException {
        int tid;
        synchronized (tids) {
            tid = tids[i];
        }
        if (tid == 0) return false;
        Path task = Path.of("/proc/self/task/" + tid);
        String stat = Files.readString(task.resolve("stat"));
        char state = stat.charAt(stat.lastIndexOf(')') + 2);
        String wchan = Files.readString(task.resolve("wchan")).trim();
        // wchan names the kernel function a thread sleeps in (do_epoll_wait, ep_poll); "0" where the kernel hides it
        return state == 'S' && (wchan.contains("epoll") || wchan.contains("ep_poll") || wchan.equals("0"));
    }

    /**
     * A client connection to the port, not accepted yet: were it accepted at once, a waiter woken but not
     * yet run would find the listener empty when epoll_wait rechecks it, and go back to sleep without
     * returning (a wake-up all the same, but one this count could not see).
     */
    private int connect() {
        int c = net.tcpSocket();
        int rc = net.k.connect(c, net.addr.address());
        assertTrue(rc == 0 || rc == -Errno.EINPROGRESS, () -> "connect: " + Errno.name(rc));
        return c;
    }

    /** Accepts the one pending connection from whichever socket holds it. */
    private void accept(int[] listeners) {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (true) {
            for (int l : listeners) {
                int s = net.k.accept(l, 0);
                if (s >= 0) {
                    net.k.close(s);
                    return;
                }
                assertEquals(-Errno.EAGAIN, s);
            }
            assertTrue(System.nanoTime() < deadline, "no connection to accept");
            Loopback.sleep(1);
        }
    }
}
