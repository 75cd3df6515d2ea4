package org.epollproxy.shim;

import static org.epollproxy.shim.Epoll.EPOLLIN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Lesson 19: epoll refuses a regular file (or a directory) with EPERM: such a file is always ready, so
 * there is nothing to wait for. Disk I/O does not go through epoll; only sockets, pipes, eventfds,
 * terminals and the like do.
 */
class RegularFileTest extends EpollLesson {
    @Test
    void aRegularFileIsEperm(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("data.txt"), "always readable\n");
        int fd = net.track(net.k.open(FileStat.cString(file.toString()).address(), 0)); // O_RDONLY
        assertTrue(fd >= 0);
        assertEquals(-Errno.EPERM, ep.add(fd, EPOLLIN, 1));
        int dirFd = net.track(net.k.open(FileStat.cString(dir.toString()).address(), 0));
        assertEquals(-Errno.EPERM, ep.add(dirFd, EPOLLIN, 2), "a directory too");
    }
}
