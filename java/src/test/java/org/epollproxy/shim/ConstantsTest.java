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
    void ioUringConstantsMatchTheHeaders() throws Exception {
        assertMatches(IoUring.class, IoUring.names());
        assertEquals(k.constant("IORING_OFF_SQ_RING"), IoUring.IORING_OFF_SQ_RING);
        assertEquals(k.constant("IORING_OFF_SQES"), IoUring.IORING_OFF_SQES);
        assertEquals(k.constant("SHIM_IORING_ENTER_EXT_ARG"), k.constant("IORING_ENTER_EXT_ARG"));
        assertEquals(k.constant("SHIM_GETEVENTS_ARG_SIZE"), k.constant("sizeof(struct io_uring_getevents_arg)"));
        // the same bits as epoll's, so a mask can go from one to the other unchanged
        assertEquals(Epoll.EPOLLIN, IoUring.POLLIN);
        assertEquals(Epoll.EPOLLOUT, IoUring.POLLOUT);
        assertEquals(Epoll.EPOLLERR, IoUring.POLLERR);
        assertEquals(Epoll.EPOLLHUP, IoUring.POLLHUP);
        assertEquals(Epoll.EPOLLRDHUP, IoUring.POLLRDHUP);
    }

    @Test
    void theIoUringStructLayoutsAreWhatJavaWrites() {
        String params = "struct io_uring_params", sq = "struct io_sqring_offsets", cq = "struct io_cqring_offsets";
        String sqe = "struct io_uring_sqe", cqe = "struct io_uring_cqe", arg = "struct io_uring_getevents_arg";
        assertLayout("sizeof(" + params + ")", IoUringLayout.PARAMS_SIZE);
        assertLayout(offset(params, "sq_entries"), IoUringLayout.PARAMS_SQ_ENTRIES);
        assertLayout(offset(params, "cq_entries"), IoUringLayout.PARAMS_CQ_ENTRIES);
        assertLayout(offset(params, "flags"), IoUringLayout.PARAMS_FLAGS);
        assertLayout(offset(params, "features"), IoUringLayout.PARAMS_FEATURES);
        assertLayout(offset(params, "sq_off"), IoUringLayout.PARAMS_SQ_OFF);
        assertLayout(offset(params, "cq_off"), IoUringLayout.PARAMS_CQ_OFF);
        assertLayout(offset(sq, "head"), IoUringLayout.SQ_OFF_HEAD);
        assertLayout(offset(sq, "tail"), IoUringLayout.SQ_OFF_TAIL);
        assertLayout(offset(sq, "ring_mask"), IoUringLayout.SQ_OFF_RING_MASK);
        assertLayout(offset(sq, "ring_entries"), IoUringLayout.SQ_OFF_RING_ENTRIES);
        assertLayout(offset(sq, "array"), IoUringLayout.SQ_OFF_ARRAY);
        assertLayout(offset(cq, "head"), IoUringLayout.CQ_OFF_HEAD);
        assertLayout(offset(cq, "tail"), IoUringLayout.CQ_OFF_TAIL);
        assertLayout(offset(cq, "ring_mask"), IoUringLayout.CQ_OFF_RING_MASK);
        assertLayout(offset(cq, "ring_entries"), IoUringLayout.CQ_OFF_RING_ENTRIES);
        assertLayout(offset(cq, "overflow"), IoUringLayout.CQ_OFF_OVERFLOW);
        assertLayout(offset(cq, "cqes"), IoUringLayout.CQ_OFF_CQES);
        assertLayout("sizeof(" + sqe + ")", IoUringLayout.SQE_SIZE);
        assertLayout(offset(sqe, "opcode"), IoUringLayout.SQE_OPCODE);
        assertLayout(offset(sqe, "flags"), IoUringLayout.SQE_FLAGS);
        assertLayout(offset(sqe, "ioprio"), IoUringLayout.SQE_IOPRIO);
        assertLayout(offset(sqe, "fd"), IoUringLayout.SQE_FD);
        assertLayout(offset(sqe, "off"), IoUringLayout.SQE_OFF);
        assertLayout(offset(sqe, "addr"), IoUringLayout.SQE_ADDR);
        assertLayout(offset(sqe, "len"), IoUringLayout.SQE_LEN);
        assertLayout(offset(sqe, "poll32_events"), IoUringLayout.SQE_OP_FLAGS);
        assertLayout(offset(sqe, "msg_flags"), IoUringLayout.SQE_OP_FLAGS);
        assertLayout(offset(sqe, "user_data"), IoUringLayout.SQE_USER_DATA);
        assertLayout("sizeof(" + cqe + ")", IoUringLayout.CQE_SIZE);
        assertLayout(offset(cqe, "user_data"), IoUringLayout.CQE_USER_DATA);
        assertLayout(offset(cqe, "res"), IoUringLayout.CQE_RES);
        assertLayout(offset(cqe, "flags"), IoUringLayout.CQE_FLAGS);
        assertLayout("sizeof(" + arg + ")", IoUringLayout.GETEVENTS_ARG_SIZE);
        assertLayout(offset(arg, "ts"), IoUringLayout.GETEVENTS_ARG_TS);
        assertLayout("sizeof(struct __kernel_timespec)", IoUringLayout.TIMESPEC_SIZE);
    }

    private static String offset(String type, String field) {
        return "offsetof(" + type + ", " + field + ")";
    }

    private void assertLayout(String cExpression, int javaValue) {
        assertEquals(k.constant(cExpression), javaValue, cExpression);
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
