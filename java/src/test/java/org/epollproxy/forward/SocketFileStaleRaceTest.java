package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.epollproxy.shim.InterposedKernel;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.Net;
import org.epollproxy.shim.Shim;
import org.epollproxy.shim.SyscallException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two proxies started at once on a path where a dead process left its socket: both find it stale, and
 * only one may end up serving there. The one that comes second to the path must not replace the first
 * one's live socket (which would then serve nobody, without a word): it finds at the path a file other than
 * the stale one it checked, puts that file back and refuses.
 */
@Timeout(60)
class SocketFileStaleRaceTest {
    @TempDir
    Path dir;

    private final Kernel real = Shim.load();

    @Test
    void ofTwoProcessesReplacingTheSameStaleSocketTheSecondDoesNotReplaceTheFirstsLiveOne() throws Exception {
        Path path = dir.resolve("front.sock");
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(path)); // closed without removing the file: a stale socket
        }
        assertTrue(Files.exists(path));

        int first = real.socket(Net.AF_UNIX, Net.SOCK_STREAM | Net.SOCK_NONBLOCK | Net.SOCK_CLOEXEC, 0);
        int second = real.socket(Net.AF_UNIX, Net.SOCK_STREAM | Net.SOCK_NONBLOCK | Net.SOCK_CLOEXEC, 0);
        AtomicBoolean raced = new AtomicBoolean();
        AtomicReference<SocketFile> firstFile = new AtomicReference<>();
        // The second process has checked the stale socket and made its own; just before it moves it onto the
        // path, the first one does all of that and is serving.
        Kernel late = InterposedKernel.over(real, (name, args, call) -> {
            if (name.equals("rename") && raced.compareAndSet(false, true)) {
                firstFile.set(SocketFile.bindAndListen(real, first, path.toString(), 0600, 16, false, "first", "a process listens there"));
            }
            return call.invoke();
        });
        try {
            SyscallException e = assertThrows(SyscallException.class,
                    () -> SocketFile.bindAndListen(late, second, path.toString(), 0600, 16, false, "bind unix:" + path, "a process listens there"));
            assertTrue(e.getMessage().startsWith("bind unix:" + path + ": "), e.getMessage());
            assertTrue(e.getMessage().contains("not replacing it"), e.getMessage());
            assertTrue(raced.get());

            // The path is the first process's socket: a client reaches it.
            try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
                int c = real.accept(first, 0);
                assertTrue(c >= 0, "the first process accepts the client: " + c);
                real.close(c);
            }
            assertEquals(1, countEntries(), "no private directory left behind");
            assertTrue(firstFile.get().remove(), "the file at the path is still the first process's own");
        } finally {
            real.close(first);
            real.close(second);
        }
    }

    private long countEntries() throws Exception {
        try (var s = Files.list(dir)) {
            return s.count();
        }
    }
}
