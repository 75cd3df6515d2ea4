package org.epollproxy.shim;

/**
 * Where the fields of io_uring's uapi structs lie ({@code <linux/io_uring.h>}), the same on x86-64 and aarch64.
 * The shim reports each one as {@code sizeof(...)} / {@code offsetof(...)} from the headers it was compiled
 * against, and ConstantsTest asserts they agree, so a drift is named instead of corrupting a ring.
 * {@link IoUring} is the only reader.
 */
final class IoUringLayout {
    /** {@code struct io_uring_params}: what setup reads (flags, cq_entries) and writes back. */
    static final int PARAMS_SIZE = 120;
    static final int PARAMS_SQ_ENTRIES = 0;
    static final int PARAMS_CQ_ENTRIES = 4;
    static final int PARAMS_FLAGS = 8;
    static final int PARAMS_FEATURES = 20;
    static final int PARAMS_SQ_OFF = 40;
    static final int PARAMS_CQ_OFF = 80;

    /** {@code struct io_sqring_offsets}, inside params at {@link #PARAMS_SQ_OFF}: offsets into the ring mapping. */
    static final int SQ_OFF_HEAD = 0;
    static final int SQ_OFF_TAIL = 4;
    static final int SQ_OFF_RING_MASK = 8;
    static final int SQ_OFF_RING_ENTRIES = 12;
    static final int SQ_OFF_ARRAY = 24;

    /** {@code struct io_cqring_offsets}, inside params at {@link #PARAMS_CQ_OFF}. */
    static final int CQ_OFF_HEAD = 0;
    static final int CQ_OFF_TAIL = 4;
    static final int CQ_OFF_RING_MASK = 8;
    static final int CQ_OFF_RING_ENTRIES = 12;
    static final int CQ_OFF_OVERFLOW = 16;
    static final int CQ_OFF_CQES = 20;

    /**
     * {@code struct io_uring_sqe}, 64 bytes. IoUring writes it as eight 64-bit words, little-endian (the only
     * byte order of the platforms the shim supports): word 0 = opcode (byte 0) | flags (byte 1) | ioprio
     * (bytes 2-3) | fd (bytes 4-7); word 1 = off; word 2 = addr; word 3 = len (bytes 24-27) | the op's flags
     * (poll32_events, msg_flags, cancel_flags: bytes 28-31); word 4 = user_data; words 5-7 = 0.
     */
    static final int SQE_SIZE = 64;
    static final int SQE_OPCODE = 0;
    static final int SQE_FLAGS = 1;
    static final int SQE_IOPRIO = 2;
    static final int SQE_FD = 4;
    static final int SQE_OFF = 8;
    static final int SQE_ADDR = 16;
    static final int SQE_LEN = 24;
    static final int SQE_OP_FLAGS = 28;
    static final int SQE_USER_DATA = 32;

    /** {@code struct io_uring_cqe}, 16 bytes (no IORING_SETUP_CQE32). */
    static final int CQE_SIZE = 16;
    static final int CQE_USER_DATA = 0;
    static final int CQE_RES = 8;
    static final int CQE_FLAGS = 12;

    /** {@code struct io_uring_getevents_arg} (IORING_ENTER_EXT_ARG) and the {@code __kernel_timespec} it points at. */
    static final int GETEVENTS_ARG_SIZE = 24;
    static final int GETEVENTS_ARG_TS = 16;
    static final int TIMESPEC_SIZE = 16;

    private IoUringLayout() {}
}
