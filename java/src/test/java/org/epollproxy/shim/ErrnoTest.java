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
    void theLibraryIsFoundInsideTheJarForThisPlatform() {
        assertEquals("native/linux-" + System.getProperty("os.arch") + "/libepollshim.so", Shim.resourcePath());
        assertTrue(Shim.class.getResource("/" + Shim.resourcePath()) != null);
    }
}
