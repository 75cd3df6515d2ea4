package org.epollproxy.shim;

import static org.epollproxy.shim.Epoll.EPOLLIN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Lesson 20: every registration is a "watch", and a user may hold at most
 * {@code /proc/sys/fs/epoll/max_user_watches} of them across all epoll instances of all their processes
 * (about 4% of low memory divided by a watch's cost: millions on a machine with gigabytes). One more ADD
 * fails with ENOSPC. The lesson reads the limit and counts its own watches in
 * {@code /proc/self/fdinfo/<epfd>}, one {@code tfd:} line each; it does not provoke ENOSPC, which would mean
 * lowering a machine-wide limit under every other process of the user or pinning millions of watches.
 */
class MaxUserWatchesTest extends EpollLesson {
    static final Path MAX_USER_WATCHES = Path.of("/proc/sys/fs/epoll/max_user_watches");

    @Test
    void theLimitIsReadableAndEachRegistrationIsOneWatch() throws IOException {
        long limit = Long.parseLong(Files.readString(MAX_USER_WATCHES).trim());
        assertTrue(limit > 0, "a limit of " + limit + " watches; a proxy needs one per open socket");

        int[] p = net.pair();
        assertEquals(0, watches());
        assertEquals(0, ep.add(p[1], EPOLLIN, 1));
        assertEquals(0, ep.add(net.dup(p[1]), EPOLLIN, 2));
        assertEquals(2, watches(), "a dup's registration is a watch of its own (lesson 10)");
        assertEquals(0, ep.delete(p[1]));
        assertEquals(1, watches(), "DEL gives one back");
    }

    /** The registrations of this lesson's epoll instance, as the kernel lists them. */
    private int watches() throws IOException {
        return (int) Files.readAllLines(Path.of("/proc/self/fdinfo/" + ep.fd())).stream()
                .filter(l -> l.startsWith("tfd:")).count();
    }
}
