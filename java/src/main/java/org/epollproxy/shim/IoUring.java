package org.epollproxy.shim;

import static org.epollproxy.shim.IoUringLayout.*;

import com.kenai.jffi.MemoryIO;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One io_uring instance, mapped into this process: the submission queue (SQ) the loop writes requests into and
 * the completion queue (CQ) it reads their results from, through the raw syscalls of the shim (no liburing).
 *
 * <pre>{@code
 * try (IoUring ring = IoUring.open(k, 256, 4096)) {
 *     ring.pollAdd(fd, IoUring.POLLIN, 42);         // one-shot: completes once fd is readable
 *     ring.submitAndWait(1, -1);                     // hands it over and waits for one completion
 *     for (int i = 0, n = ring.ready(); i < n; i++)
 *         System.out.println(ring.userData(i) + " " + ring.res(i));   // 42 POLLIN
 *     ring.advance(ring.ready());
 * }
 * }</pre>
 *
 * <p>Single-threaded: one thread (the loop's) writes requests, submits and reads completions; with
 * {@link #deferTaskrun()} the kernel also refuses (-EEXIST) an {@code io_uring_enter} from any other thread than
 * the one that made the ring, or that {@link #enable()}d a ring made by {@link #openDisabled}. Nothing here
 * allocates after {@link #open}: requests are written straight into the mapped SQ, completions read in place.
 *
 * <p>Memory ordering. The kernel reads the SQ tail and writes the SQ head and CQ tail; we write the SQ tail
 * and CQ head. Each of these four words is accessed through a VarHandle over a direct ByteBuffer view of the
 * ring mapping ({@link MethodHandles#byteBufferViewVarHandle}, aligned ints): a {@code setRelease} of a tail or
 * head makes every earlier write (the SQE's words, written with jffi's Unsafe-backed MemoryIO) visible before
 * it, and a {@code getAcquire} of the kernel's tail orders the CQE reads after it — the {@code smp_store_release}
 * / {@code smp_load_acquire} pairs io_uring(7) asks for, on x86-64 (where they cost nothing but stop the JIT
 * from reordering) and on aarch64 (stlr/ldar) alike. It is the supported API on JDK 17 and 25 both, unlike
 * {@code Unsafe.putOrderedInt} (deprecated for removal) or bare fences around MemoryIO calls.
 */
public final class IoUring implements AutoCloseable {
    // ---- opcodes (enum io_uring_op) ----
    public static final int IORING_OP_NOP = 0;
    public static final int IORING_OP_POLL_ADD = 6;
    public static final int IORING_OP_POLL_REMOVE = 7;
    public static final int IORING_OP_ASYNC_CANCEL = 14;
    public static final int IORING_OP_SEND = 26;

    // ---- per-request flags (sqe->flags) ----
    public static final int IOSQE_FIXED_FILE = 1;
    public static final int IOSQE_IO_DRAIN = 2;
    /** The next request starts only once this one succeeded; a failure cancels it (-ECANCELED). */
    public static final int IOSQE_IO_LINK = 4;
    public static final int IOSQE_IO_HARDLINK = 8;
    public static final int IOSQE_ASYNC = 16;
    /** No completion when the request succeeds (5.17+, IORING_FEAT_CQE_SKIP); a failure still posts one. */
    public static final int IOSQE_CQE_SKIP_SUCCESS = 64;

    // ---- poll masks: poll(2)'s bits, the same values as Epoll.EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLRDHUP ----
    public static final int POLLIN = 0x001;
    public static final int POLLOUT = 0x004;
    public static final int POLLERR = 0x008;
    public static final int POLLHUP = 0x010;
    public static final int POLLRDHUP = 0x2000;

    // ---- IORING_OP_POLL_ADD / POLL_REMOVE flags (sqe->len) and completion flags ----
    public static final int IORING_POLL_ADD_MULTI = 1;
    public static final int IORING_POLL_UPDATE_EVENTS = 2;
    public static final int IORING_POLL_UPDATE_USER_DATA = 4;
    /** cqe->flags: more completions will come for this request (a multishot one). */
    public static final int IORING_CQE_F_MORE = 2;

    // ---- setup, enter, register, mmap ----
    public static final int IORING_SETUP_CQSIZE = 1 << 3;
    public static final int IORING_SETUP_R_DISABLED = 1 << 6;
    public static final int IORING_SETUP_SUBMIT_ALL = 1 << 7;
    public static final int IORING_SETUP_SINGLE_ISSUER = 1 << 12;
    public static final int IORING_SETUP_DEFER_TASKRUN = 1 << 13;
    public static final int IORING_ENTER_GETEVENTS = 1;
    public static final int IORING_ENTER_EXT_ARG = 8;
    public static final int IORING_REGISTER_ENABLE_RINGS = 12;
    public static final int IORING_FEAT_SINGLE_MMAP = 1;
    public static final int IORING_FEAT_NODROP = 2;
    public static final int IORING_FEAT_EXT_ARG = 1 << 8;
    public static final int IORING_FEAT_CQE_SKIP = 1 << 11;
    public static final long IORING_OFF_SQ_RING = 0;
    public static final long IORING_OFF_SQES = 0x10000000L;
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int MAP_SHARED = 1;
    public static final int MAP_POPULATE = 0x8000;

    /**
     * What setup asks for first (6.1+): completions run in the loop's thread inside io_uring_enter only
     * (DEFER_TASKRUN, which needs SINGLE_ISSUER), and one failed request does not stop the rest of a batch from
     * being submitted (SUBMIT_ALL, 5.18). On -EINVAL (an older kernel) setup falls back to CQSIZE alone.
     */
    private static final int PREFERRED_SETUP = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER
            | IORING_SETUP_DEFER_TASKRUN;
    /** Without these the class cannot work: one mapping for both rings (5.4), no lost completion (5.5), timed waits (5.11). */
    private static final int REQUIRED_FEATURES = IORING_FEAT_SINGLE_MMAP | IORING_FEAT_NODROP | IORING_FEAT_EXT_ARG;
    /** A full SQ is handed over at most this many times in a row without the kernel taking anything. */
    private static final int HAND_OVER_TRIES = 1000;

    private static final MemoryIO MEM = MemoryIO.getInstance();
    private static final VarHandle INT = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.nativeOrder());

    private final Kernel k;
    private final int fd;
    private final int setupFlags;
    private final int features;
    private final long ringAddr;
    private final long ringSize;
    private final long sqesAddr;
    private final long sqesSize;
    /** The ring mapping as a buffer, only for the VarHandle accesses to the heads and tails. */
    private final ByteBuffer ring;
    private final int sqHeadOff, sqTailOff, sqMask, sqEntries;
    private final int cqHeadOff, cqTailOff, cqOverflowOff, cqMask, cqEntries;
    private final long cqesAddr;
    /** A struct io_uring_getevents_arg, its ts pointing at the __kernel_timespec right after it. */
    private final NativeBuffer waitArg;
    private final long timespec;
    /** Our SQ tail: entries written up to here; published to the kernel by {@link #publish}. */
    private int sqTail;
    /** Our CQ head: completions consumed up to here (stored to the ring by {@link #advance}). */
    private int cqHead;
    private boolean closed;

    private IoUring(Kernel k, int fd, NativeBuffer params, long ringAddr, long ringSize, long sqesAddr, long sqesSize) {
        this.k = k;
        this.fd = fd;
        ByteBuffer p = params.buffer();
        this.setupFlags = p.getInt(PARAMS_FLAGS);
        this.features = p.getInt(PARAMS_FEATURES);
        this.ringAddr = ringAddr;
        this.ringSize = ringSize;
        this.sqesAddr = sqesAddr;
        this.sqesSize = sqesSize;
        this.ring = MEM.newDirectByteBuffer(ringAddr, (int) ringSize);
        this.sqHeadOff = p.getInt(PARAMS_SQ_OFF + SQ_OFF_HEAD);
        this.sqTailOff = p.getInt(PARAMS_SQ_OFF + SQ_OFF_TAIL);
        this.sqMask = MEM.getInt(ringAddr + p.getInt(PARAMS_SQ_OFF + SQ_OFF_RING_MASK));
        this.sqEntries = MEM.getInt(ringAddr + p.getInt(PARAMS_SQ_OFF + SQ_OFF_RING_ENTRIES));
        this.cqHeadOff = p.getInt(PARAMS_CQ_OFF + CQ_OFF_HEAD);
        this.cqTailOff = p.getInt(PARAMS_CQ_OFF + CQ_OFF_TAIL);
        this.cqOverflowOff = p.getInt(PARAMS_CQ_OFF + CQ_OFF_OVERFLOW);
        this.cqMask = MEM.getInt(ringAddr + p.getInt(PARAMS_CQ_OFF + CQ_OFF_RING_MASK));
        this.cqEntries = MEM.getInt(ringAddr + p.getInt(PARAMS_CQ_OFF + CQ_OFF_RING_ENTRIES));
        this.cqesAddr = ringAddr + p.getInt(PARAMS_CQ_OFF + CQ_OFF_CQES);
        // Slot i of the SQ always holds SQE i (we fill the SQEs in ring order), so the indirection array is
        // written once here rather than once per request.
        long array = ringAddr + p.getInt(PARAMS_SQ_OFF + SQ_OFF_ARRAY);
        for (int i = 0; i < sqEntries; i++) MEM.putInt(array + 4L * i, i);
        this.sqTail = (int) INT.getAcquire(ring, sqTailOff);
        this.cqHead = (int) INT.getAcquire(ring, cqHeadOff);
        this.waitArg = NativeBuffer.allocate(GETEVENTS_ARG_SIZE + TIMESPEC_SIZE);
        this.timespec = waitArg.address() + GETEVENTS_ARG_SIZE;
        waitArg.buffer().putLong(GETEVENTS_ARG_TS, timespec); // sigmask NULL, sigmask_sz 0: the signal mask is left alone
    }

    /**
     * Sets up a ring with {@code sqEntries} submission entries and {@code cqEntries} completion entries (the kernel
     * rounds both up to a power of two; cqEntries >= sqEntries), with IORING_SETUP_SINGLE_ISSUER |
     * IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE, falling back to CQSIZE alone on
     * EINVAL (kernels before 6.1), and maps it. The calling thread becomes the ring's only submitter.
     *
     * @throws SyscallException naming io_uring_setup or mmap and the errno when the kernel refuses: ENOSYS (no
     *     io_uring, or a kernel before 5.11 without IORING_FEAT_EXT_ARG), EPERM (sysctl kernel.io_uring_disabled,
     *     a container's seccomp filter), ENOMEM (the memlock limit, on kernels before 5.12)
     */
    public static IoUring open(Kernel k, int sqEntries, int cqEntries) {
        return open(k, sqEntries, cqEntries, 0);
    }

    /**
     * As {@link #open}, with IORING_SETUP_R_DISABLED: the ring is made on this thread and handed to the thread that
     * will use it, which calls {@link #enable()} before its first submission. Requests may be written before that,
     * as many as {@link #sqEntries()} (one more throws: the hand-over of a full SQ gets -EBADFD); they are
     * submitted after it.
     */
    public static IoUring openDisabled(Kernel k, int sqEntries, int cqEntries) {
        return open(k, sqEntries, cqEntries, IORING_SETUP_R_DISABLED);
    }

    private static IoUring open(Kernel k, int sqEntries, int cqEntries, int extraFlags) {
        if (sqEntries < 1 || cqEntries < sqEntries) {
            throw new IllegalArgumentException("io_uring needs 1 <= sqEntries <= cqEntries, not " + sqEntries + " and " + cqEntries);
        }
        NativeBuffer params = NativeBuffer.allocate(PARAMS_SIZE);
        int fd = setup(k, sqEntries, cqEntries, PREFERRED_SETUP | extraFlags, params);
        if (fd == -Errno.EINVAL) fd = setup(k, sqEntries, cqEntries, IORING_SETUP_CQSIZE | extraFlags, params);
        if (fd < 0) throw new SyscallException(setupCall(fd), fd);
        int missing = REQUIRED_FEATURES & ~params.buffer().getInt(PARAMS_FEATURES);
        if (missing != 0) {
            k.close(fd);
            throw new SyscallException("io_uring_setup: this kernel's io_uring lacks features 0x" + Integer.toHexString(missing)
                    + " (SINGLE_MMAP, NODROP, EXT_ARG: Linux 5.11 or later)", -Errno.ENOSYS);
        }
        ByteBuffer p = params.buffer();
        int sq = p.getInt(PARAMS_SQ_ENTRIES), cq = p.getInt(PARAMS_CQ_ENTRIES);
        long ringSize = Math.max(p.getInt(PARAMS_SQ_OFF + SQ_OFF_ARRAY) + 4L * sq, p.getInt(PARAMS_CQ_OFF + CQ_OFF_CQES) + (long) CQE_SIZE * cq);
        long sqesSize = (long) SQE_SIZE * sq;
        int prot = PROT_READ | PROT_WRITE, flags = MAP_SHARED | MAP_POPULATE;
        long ringAddr = k.mmap(ringSize, prot, flags, fd, IORING_OFF_SQ_RING);
        if (ringAddr < 0) {
            k.close(fd);
            throw new SyscallException("mmap of the io_uring rings (" + ringSize + " bytes)", (int) ringAddr);
        }
        long sqesAddr = k.mmap(sqesSize, prot, flags, fd, IORING_OFF_SQES);
        if (sqesAddr < 0) {
            k.munmap(ringAddr, ringSize);
            k.close(fd);
            throw new SyscallException("mmap of the io_uring submission entries (" + sqesSize + " bytes)", (int) sqesAddr);
        }
        return new IoUring(k, fd, params, ringAddr, ringSize, sqesAddr, sqesSize);
    }

    private static int setup(Kernel k, int sqEntries, int cqEntries, int flags, NativeBuffer params) {
        ByteBuffer p = params.buffer();
        for (int i = 0; i < PARAMS_SIZE; i += 4) p.putInt(i, 0);
        p.putInt(PARAMS_FLAGS, flags);
        p.putInt(PARAMS_CQ_ENTRIES, cqEntries);
        return k.io_uring_setup(sqEntries, params.address());
    }

    /** The call's name, with the usual reason for the errno an operator meets. */
    private static String setupCall(int rc) {
        if (rc == -Errno.ENOSYS) return "io_uring_setup (a kernel without io_uring)";
        if (rc == -Errno.EPERM) return "io_uring_setup (refused by sysctl kernel.io_uring_disabled or a seccomp filter)";
        if (rc == -Errno.ENOMEM) return "io_uring_setup (out of memory, or before Linux 5.12 the locked-memory limit, ulimit -l)";
        return "io_uring_setup";
    }

    /**
     * IORING_REGISTER_ENABLE_RINGS, on the thread that will submit: a ring from {@link #openDisabled} starts
     * working and, with SINGLE_ISSUER, belongs to this thread. Returns 0 or -errno (-EBADFD: not disabled).
     */
    public int enable() {
        ensureOpen();
        return k.io_uring_register(fd, IORING_REGISTER_ENABLE_RINGS, 0, 0);
    }

    /** Whether setup got IORING_SETUP_DEFER_TASKRUN (and SINGLE_ISSUER), for the start-up log line. */
    public boolean deferTaskrun() {
        return (setupFlags & IORING_SETUP_DEFER_TASKRUN) != 0;
    }

    /** The IORING_SETUP_* flags setup got. */
    public int setupFlags() {
        return setupFlags;
    }

    /** The IORING_FEAT_* bits this kernel reported. */
    public int features() {
        return features;
    }

    /** Submission entries, as the kernel rounded them. */
    public int sqEntries() {
        return sqEntries;
    }

    /** Completion entries, as the kernel rounded them. */
    public int cqEntries() {
        return cqEntries;
    }

    public int fd() {
        return fd;
    }

    // ---- submission ----

    /** One-shot IORING_OP_POLL_ADD: completes once with the ready bits of {@code pollMask} (or POLLERR/POLLHUP) as res. */
    public void pollAdd(int fd, int pollMask, long userData) {
        put(IORING_OP_POLL_ADD, 0, fd, 0, 0, 0, pollMask, userData);
    }

    /**
     * Multishot IORING_OP_POLL_ADD (5.13+): stays armed and completes at each new readiness of {@code pollMask}, every
     * completion but the last flagged {@link #IORING_CQE_F_MORE}; it ends (a completion without F_MORE) when removed,
     * on an error, or if the kernel cannot keep it armed (then arm it again). Suits a listening socket or an eventfd.
     */
    public void pollAddMultishot(int fd, int pollMask, long userData) {
        put(IORING_OP_POLL_ADD, 0, fd, 0, 0, IORING_POLL_ADD_MULTI, pollMask, userData);
    }

    /**
     * Removes the poll whose user_data is {@code targetUserData}: it completes with -ECANCELED, and this request
     * with 0, or -ENOENT if no such poll is armed (it completed already), or -EALREADY if it is completing.
     */
    public void pollRemove(long targetUserData, long userData, int sqeFlags) {
        put(IORING_OP_POLL_REMOVE, sqeFlags, -1, 0, targetUserData, 0, 0, userData);
    }

    /**
     * IORING_POLL_UPDATE_EVENTS (5.13+): the armed poll {@code targetUserData} now waits for {@code newMask} (still
     * one-shot, same user_data; it completes at once if the new mask is ready). This request completes with 0, or
     * -ENOENT if the poll is no longer armed.
     */
    public void pollUpdate(long targetUserData, int newMask, long userData, int sqeFlags) {
        put(IORING_OP_POLL_REMOVE, sqeFlags, -1, 0, targetUserData, IORING_POLL_UPDATE_EVENTS, newMask, userData);
    }

    /**
     * IORING_OP_SEND of {@code len} bytes at {@code buf}; {@code MSG_NOSIGNAL} is always added (a reset peer gives
     * -EPIPE, never SIGPIPE), as {@link Kernel#send} does. With {@link Net#MSG_WAITALL} the kernel retries a partial
     * send itself until all is sent or it fails: res is then len or -errno. The memory must stay untouched until
     * the completion.
     */
    public void send(int fd, long buf, int len, int msgFlags, long userData, int sqeFlags) {
        put(IORING_OP_SEND, sqeFlags, fd, 0, buf, len, msgFlags | Net.MSG_NOSIGNAL, userData);
    }

    /**
     * IORING_OP_ASYNC_CANCEL of the request whose user_data is {@code targetUserData}: it completes with -ECANCELED
     * (or -EINTR if it was running in a worker), this request with 0, -ENOENT (not found) or -EALREADY.
     */
    public void cancel(long targetUserData, long userData, int sqeFlags) {
        put(IORING_OP_ASYNC_CANCEL, sqeFlags, -1, 0, targetUserData, 0, 0, userData);
    }

    public void nop(long userData, int sqeFlags) {
        put(IORING_OP_NOP, sqeFlags, -1, 0, 0, 0, 0, userData);
    }

    /** SQEs written and not yet handed to the kernel. */
    public int queued() {
        return sqTail - (int) INT.getAcquire(ring, sqHeadOff);
    }

    /**
     * Publishes what is queued and waits: {@code io_uring_enter(queued, minComplete, GETEVENTS)}, which with
     * DEFER_TASKRUN also runs the completions the kernel deferred to this thread. {@code timeoutNanos < 0}: no
     * timeout; {@code >= 0}: at most that long (IORING_ENTER_EXT_ARG). Returns the number of entries submitted
     * (>= 0), 0 when it woke without completions (-ETIME, -EINTR), or another -errno. minComplete 0 returns at once.
     */
    public int submitAndWait(int minComplete, long timeoutNanos) {
        ensureOpen();
        publish();
        int flags = IORING_ENTER_GETEVENTS;
        long arg = 0;
        if (timeoutNanos >= 0) {
            MEM.putLong(timespec, timeoutNanos / 1_000_000_000L);
            MEM.putLong(timespec + 8, timeoutNanos % 1_000_000_000L);
            flags |= IORING_ENTER_EXT_ARG;
            arg = waitArg.address(); // the shim passes its size, GETEVENTS_ARG_SIZE
        }
        int rc = k.io_uring_enter(fd, queued(), minComplete, flags, arg);
        return rc == -Errno.ETIME || rc == -Errno.EINTR ? 0 : rc;
    }

    /**
     * Hands over what is queued without waiting (no syscall if nothing is): the number submitted, or -errno. With
     * {@link #deferTaskrun()} it runs no deferred completion: only {@link #submitAndWait} makes those visible.
     */
    public int submit() {
        ensureOpen();
        publish();
        int n = queued();
        if (n == 0) return 0;
        int rc = k.io_uring_enter(fd, n, 0, 0, 0);
        return rc == -Errno.EINTR ? 0 : rc;
    }

    // ---- completion: read in place ----

    /**
     * Completions available to read, from the oldest: index 0 to ready() - 1. When the CQ is full the kernel keeps
     * the further ones (IORING_FEAT_NODROP) and posts them once {@link #advance} made room, at the next enter.
     */
    public int ready() {
        ensureOpen();
        return (int) INT.getAcquire(ring, cqTailOff) - cqHead;
    }

    /** The user_data of the {@code i}-th available completion. */
    public long userData(int i) {
        return MEM.getLong(cqe(i) + CQE_USER_DATA);
    }

    /** Its result: >= 0 (a poll's ready bits, bytes sent, 0) or -errno. */
    public int res(int i) {
        return MEM.getInt(cqe(i) + CQE_RES);
    }

    /** Its IORING_CQE_F_* flags. */
    public int flags(int i) {
        return MEM.getInt(cqe(i) + CQE_FLAGS);
    }

    /** Consumes the {@code n} oldest completions, giving their slots back to the kernel. */
    public void advance(int n) {
        cqHead += n;
        INT.setRelease(ring, cqHeadOff, cqHead);
    }

    /** Completions the kernel had to drop (cq_ring overflow); with IORING_FEAT_NODROP only when it lacked memory. */
    public int overflowed() {
        ensureOpen();
        return (int) INT.getAcquire(ring, cqOverflowOff);
    }

    /** Unmaps both regions and closes the ring, which cancels whatever is still in flight. Idempotent. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        k.munmap(sqesAddr, sqesSize);
        k.munmap(ringAddr, ringSize);
        k.close(fd);
    }

    private long cqe(int i) {
        return cqesAddr + (long) ((cqHead + i) & cqMask) * CQE_SIZE;
    }

    private void publish() {
        INT.setRelease(ring, sqTailOff, sqTail);
    }

    /**
     * Writes one SQE, all 64 bytes (so no earlier request's fields linger), as eight little-endian words; see
     * {@link IoUringLayout#SQE_SIZE}. ioprio, buf_index, personality, splice_fd_in and addr3 are 0.
     */
    private void put(int opcode, int sqeFlags, int fd, long off, long addr, int len, int opFlags, long userData) {
        long e = nextSqe();
        MEM.putLong(e, (opcode & 0xff | (sqeFlags & 0xff) << 8) | (long) fd << 32);
        MEM.putLong(e + SQE_OFF, off);
        MEM.putLong(e + SQE_ADDR, addr);
        MEM.putLong(e + SQE_LEN, (len & 0xffffffffL) | (long) opFlags << 32);
        MEM.putLong(e + SQE_USER_DATA, userData);
        MEM.putLong(e + 40, 0);
        MEM.putLong(e + 48, 0);
        MEM.putLong(e + 56, 0);
    }

    /** The address of the next free SQE; a full SQ is first handed to the kernel (without waiting). */
    private long nextSqe() {
        ensureOpen();
        if (queued() >= sqEntries) handOver();
        long e = sqesAddr + (long) (sqTail & sqMask) * SQE_SIZE;
        sqTail++;
        return e;
    }

    private void handOver() {
        for (int attempt = 0; queued() >= sqEntries; attempt++) {
            publish();
            int rc = k.io_uring_enter(fd, queued(), 0, 0, 0);
            boolean retry = rc >= 0 || rc == -Errno.EINTR || rc == -Errno.EAGAIN || rc == -Errno.EBUSY;
            if (!retry || attempt >= HAND_OVER_TRIES) {
                throw new SyscallException("io_uring_enter (handing over a full submission queue of " + sqEntries + ")",
                        rc < 0 ? rc : -Errno.EBUSY);
            }
        }
    }

    private void ensureOpen() {
        // A closed ring's memory is unmapped: reading it would crash the JVM, so refuse instead.
        if (closed) throw new IllegalStateException("io_uring fd " + fd + " is closed");
    }

    /** Every public int constant's name, for the test that checks them against the C headers (the two mmap offsets are longs). */
    public static String[] names() {
        java.util.List<String> out = new java.util.ArrayList<>();
        for (java.lang.reflect.Field f : IoUring.class.getFields()) {
            if (f.getType() == int.class) out.add(f.getName());
        }
        return out.toArray(new String[0]);
    }
}
