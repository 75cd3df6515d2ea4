package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.Shim;
import org.epollproxy.shim.SockAddr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A socket path of exactly {@link SockAddr#MAX_PATH} (107) bytes, the longest sun_path holds with its NUL:
 * the socket is bound inside the private directory under a short name, so the length that matters is the
 * path's own; it is listened on there, reached by clients and removed at the end.
 */
@Timeout(30)
class SocketFileLongPathTest {
    @TempDir
    Path dir;

    @Test
    void aPathOfExactly107BytesIsMadeReachedAndRemoved() throws Exception {
        Kernel k = Shim.load();
        String prefix = dir.toString() + "/";
        String path = prefix + "s".repeat(SockAddr.MAX_PATH - prefix.getBytes(StandardCharsets.UTF_8).length);
        assertEquals(107, path.getBytes(StandardCharsets.UTF_8).length);
        SockAddr addr = SockAddr.unix(path);
        int fd = UnixSockets.listen(k, addr, 16, 0660);
        int c = k.socket(org.epollproxy.shim.Net.AF_UNIX, org.epollproxy.shim.Net.SOCK_STREAM | org.epollproxy.shim.Net.SOCK_CLOEXEC, 0);
        try {
            // Through the shim: Java's own UNIX channels refuse a 107-byte path ("Unix domain path too long").
            org.epollproxy.shim.NativeBuffer b = org.epollproxy.shim.NativeBuffer.allocate(SockAddr.SIZE);
            addr.write(b.buffer(), 0);
            assertEquals(0, k.connect(c, b.address()));
            java.lang.ref.Reference.reachabilityFence(b);
            int a = k.accept(fd, 0);
            assertTrue(a >= 0, "accepted: " + a);
            k.close(a);
        } finally {
            k.close(c);
            UnixSockets.remove(addr);
            k.close(fd);
        }
        assertFalse(Files.exists(Path.of(path)));
        try (var s = Files.list(dir)) {
            assertEquals(0, s.count(), "no private directory left");
        }
    }
}
