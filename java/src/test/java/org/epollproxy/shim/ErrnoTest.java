package org.epollproxy.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** errno values become names and strerror text; unexpected results become a SyscallException that says all. */
class ErrnoTest {
    @Test
    void namesAndTextComeFromTheErrnoValue() {
        Shim.load();
        assertEquals("EAGAIN", Errno.name(-Errno.EAGAIN));
        assertEquals("ECONNREFUSED", Errno.name(Errno.ECONNREFUSED));
        assertEquals("errno 200", Errno.name(200));
        assertEquals("Connection refused", Errno.text(Errno.ECONNREFUSED));
        assertEquals("EADDRINUSE (Address already in use)", Errno.describe(-Errno.EADDRINUSE));
    }

    @Test
    void anUnexpectedResultNamesTheCallTheErrnoAndItsText() {
        SyscallException e = assertThrows(SyscallException.class,
                () -> SyscallException.check(-Errno.EACCES, "bind 127.0.0.1:80"));
        assertEquals("bind 127.0.0.1:80: EACCES (Permission denied)", e.getMessage());
        assertEquals(Errno.EACCES, e.errno());
        assertEquals(7, SyscallException.check(7, "socket"));
    }

    @Test
    void aLibraryThatCannotLoadFailsAtOnceNamingThePath() {
        // A separate binding attempt: the process-wide one stays loaded.
        Shim.ShimLoadException e = assertThrows(Shim.ShimLoadException.class,
                () -> Shim.bindForTest(Path.of("/nonexistent/libepollshim.so")));
        assertTrue(e.getMessage().contains("/nonexistent/libepollshim.so"), e.getMessage());
    }

    @Test
    void aLibraryWithoutTheShimsFunctionsFailsAtOnceNamingTheMissingOne() throws Exception {
        // libc loads, but has none of the shim_ symbols: the binding must refuse at start, not at the
        // first call in the middle of forwarding.
        // The libc this JVM itself has mapped, wherever the distribution keeps it (/lib/x86_64-linux-gnu, /lib64, ...).
        Path libc = java.nio.file.Files.readAllLines(Path.of("/proc/self/maps")).stream()
                .map(l -> l.substring(l.lastIndexOf(' ') + 1))
                .filter(f -> f.startsWith("/") && Path.of(f).getFileName().toString().startsWith("libc.so"))
                .findFirst().map(Path::of).orElseThrow();
        Shim.ShimLoadException e = assertThrows(Shim.ShimLoadException.class, () -> Shim.bindForTest(libc));
        assertTrue(e.getMessage().contains("shim_epoll_create") && e.getMessage().contains(libc.toString()), e.getMessage());
    }

    @Test
    void intResultsKeepTheirSignAndLongResultsAllSixtyFourBits() {
        Kernel k = Shim.load();
        assertEquals(-Errno.EBADF, k.close(-1), "a negative int result comes back negative");
        long fds = k.pipe2();
        assertTrue(fds > 0, "pipe2 packs two fds in one long: " + fds);
        int read = (int) (fds >>> 32), write = (int) fds;
        assertTrue(read > 2 && write > 2 && read != write, "two distinct fds: " + read + ", " + write);
        assertEquals(0, k.close(read));
        assertEquals(0, k.close(write));
        assertEquals(Net.AF_INET6, (int) k.constant("AF_INET6"), "a string argument reaches C");
    }

    @Test
    void theLibraryIsFoundInsideTheJarForThisPlatform() {
        assertEquals("native/linux-" + System.getProperty("os.arch") + "/libepollshim.so", Shim.resourcePath());
        assertTrue(Shim.class.getResource("/" + Shim.resourcePath()) != null);
    }
}
