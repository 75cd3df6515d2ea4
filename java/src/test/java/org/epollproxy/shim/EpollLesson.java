package org.epollproxy.shim;

import org.junit.jupiter.api.AfterEach;

/**
 * What every lesson needs: loopback sockets through the shim, one epoll instance, both closed after each test.
 * docs/epoll-lessons.md reads the lessons in order; every {@code @Test} of a subclass must be named there
 * ({@link EpollLessonsGuideTest}).
 */
abstract class EpollLesson {
    protected final Loopback net = new Loopback();
    protected final Epoll ep = Epoll.open(net.k, 8);

    @AfterEach
    void closeEpollAndSockets() {
        ep.close();
        net.close();
    }
}
