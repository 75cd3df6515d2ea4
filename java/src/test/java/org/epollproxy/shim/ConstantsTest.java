package org.epollproxy.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Every constant the Java side types in (errno values, epoll flags, socket options) must equal the
 * value in this system's C headers, which the shim reports. If one drifts, this names it.
 */
class ConstantsTest {
    private final Kernel k = Shim.load();

    private void assertMatches(Class<?> holder, String[] names) throws Exception {
        for (String name : names) {
            long expected = k.constant(name);
            int actual = holder.getField(name).getInt(null);
            // C flags such as EPOLLET (1u << 31) are unsigned; Java's int holds the same 32 bits.
            assertTrue(expected >= Integer.MIN_VALUE && expected <= 0xffffffffL, name + " is not a C header constant");
            assertEquals((int) expected, actual, holder.getSimpleName() + "." + name + " differs from the C header");
        }
    }

    @Test
    void errnoValuesMatchTheHeaders() throws Exception {
        assertMatches(Errno.class, Errno.names());
    }

    @Test
    void socketConstantsMatchTheHeaders() throws Exception {
        assertMatches(Net.class, Net.names());
    }

    @Test
    void epollConstantsMatchTheHeaders() throws Exception {
        assertMatches(Epoll.class, Epoll.names());
    }

    @Test
    void fileTypeBitsAndTheStatLayoutMatchTheHeaders() {
        assertEquals(k.constant("S_IFMT"), FileStat.S_IFMT);
        assertEquals(k.constant("S_IFSOCK"), FileStat.S_IFSOCK);
        assertEquals(k.constant("S_IFDIR"), FileStat.S_IFDIR);
        assertEquals(k.constant("S_IFREG"), FileStat.S_IFREG);
        assertEquals(k.constant("S_IFLNK"), FileStat.S_IFLNK);
        assertEquals(k.constant("SHIM_STAT_SIZE"), FileStat.SIZE);
    }

    @Test
    void theShimsLayoutsAreWhatJavaReads() {
        assertEquals(k.constant("SHIM_EVENT_SIZE"), Epoll.EVENT_SIZE);
        assertEquals(k.constant("SHIM_ADDR_SIZE"), SockAddr.SIZE);
        assertEquals(k.constant("SHIM_MAX_EVENTS"), Epoll.MAX_EVENTS);
        assertEquals(SockAddr.SIZE, k.sizeof_addr());
    }

    @Test
    void theKernelsEpollEventIsPackedOnX86AndNotElsewhere() {
        // struct epoll_event is __attribute__((packed)) on x86-64 only: 12 bytes there, 16 on aarch64.
        // The shim hides this by flattening events into its own 16-byte records.
        int expected = System.getProperty("os.arch").equals("amd64") ? 12 : 16;
        assertEquals(expected, k.sizeof_epoll_event());
    }

    @Test
    void unknownNamesAreReportedAsSuch() {
        assertEquals(Long.MIN_VALUE, k.constant("NOT_A_CONSTANT"));
    }
}
