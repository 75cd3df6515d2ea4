package org.epollproxy.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * {@link IoUring} on the real kernel, with real sockets on loopback. Skipped, saying why, only where the kernel
 * refuses io_uring_setup (ENOSYS: no io_uring; EPERM: sysctl kernel.io_uring_disabled or seccomp).
 * Waits are bounded by generous deadlines; an absence is asserted only next to a presence proven the same way.
 */
class IoUringTest {
    private static final long PATIENCE_NANOS = TimeUnit.SECONDS.toNanos(30);
    private static final long SHORT_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private final Loopback net = new Loopback();
    private final Kernel k = net.k;
    private final List<IoUring> rings = new ArrayList<>();

    @AfterEach
    void closeAll() {
        for (IoUring r : rings) r.close();
        net.close();
    }

    private IoUring ring(int sq, int cq) {
        try {
            IoUring r = IoUring.open(k, sq, cq);
            rings.add(r);
            return r;
        } catch (SyscallException e) {
            throw Rings.skipIfRefused(e);
        }
    }

    /** Waits (30 s at most) until {@code n} completions have come, consumes them and returns user_data -> res. */
    private static Map<Long, Integer> await(IoUring r, int n) {
        Map<Long, Integer> got = new HashMap<>();
        long deadline = System.nanoTime() + PATIENCE_NANOS;
        while (got.size() < n && System.nanoTime() < deadline) {
            int rc = r.submitAndWait(n - got.size(), TimeUnit.SECONDS.toNanos(1));
            assertTrue(rc >= 0, () -> "io_uring_enter: " + Errno.name(rc));
            int ready = r.ready();
            for (int i = 0; i < ready; i++) {
                assertFalse(got.containsKey(r.userData(i)), "a second completion for user_data " + r.userData(i));
                got.put(r.userData(i), r.res(i));
            }
            r.advance(ready);
        }
        assertEquals(n, got.size(), () -> "completions after 30 s: " + got);
        return got;
    }

    @Test
    void aNopComesBackWithItsUserData() {
        IoUring r = ring(8, 16);
        r.nop(0x1234_5678_9abc_def0L, 0);
        assertEquals(1, r.queued());
        assertEquals(1, r.submitAndWait(1, -1));
        assertEquals(0, r.queued());
        assertEquals(1, r.ready());
        assertEquals(0x1234_5678_9abc_def0L, r.userData(0));
        assertEquals(0, r.res(0));
        assertEquals(0, r.flags(0));
        r.advance(1);
        assertEquals(0, r.ready());
        assertEquals(0, r.overflowed());
        assertTrue(r.deferTaskrun(), "6.1+ kernels give SINGLE_ISSUER | DEFER_TASKRUN; this one: " + System.getProperty("os.version"));
    }

    @Test
    void aPollCompletesOnceTheSocketIsReadableAndNotBefore() {
        IoUring r = ring(8, 16);
        int[] p = net.pair();
        // A completing poll is possible here: a fresh socket is writable at once.
        r.pollAdd(p[1], IoUring.POLLOUT, 1);
        assertEquals(Map.of(1L, IoUring.POLLOUT), await(r, 1));

        r.pollAdd(p[1], IoUring.POLLIN, 2);
        assertEquals(1, r.submitAndWait(1, SHORT_NANOS), "submitted, then timed out");
        assertEquals(0, r.ready(), "nothing to read yet");

        assertEquals(10, net.send(p[0], 10, (byte) 'x'));
        Map<Long, Integer> got = await(r, 1);
        assertEquals(IoUring.POLLIN, got.get(2L) & IoUring.POLLIN);
        assertEquals(Epoll.EPOLLIN, IoUring.POLLIN, "the same bits as epoll's");
    }

    @Test
    void pollRemoveCancelsTheArmedPoll() {
        IoUring r = ring(8, 16);
        int[] p = net.pair();
        r.pollAdd(p[1], IoUring.POLLIN, 10);
        assertEquals(1, r.submit());
        r.pollRemove(10, 11, 0);
        assertEquals(Map.of(10L, -Errno.ECANCELED, 11L, 0), await(r, 2));

        r.pollRemove(10, 12, 0);
        assertEquals(Map.of(12L, -Errno.ENOENT), await(r, 1), "nothing armed under that user_data any more");
    }

    @Test
    void aMultishotPollCompletesAtEachArrivalUntilRemoved() {
        IoUring r = ring(8, 16);
        int[] p = net.pair();
        r.pollAddMultishot(p[1], IoUring.POLLIN, 70);
        for (int round = 0; round < 3; round++) {
            assertEquals(1, net.send(p[0], 1, (byte) 'x'));
            long deadline = System.nanoTime() + PATIENCE_NANOS;
            while (r.ready() == 0 && System.nanoTime() < deadline) assertTrue(r.submitAndWait(1, TimeUnit.SECONDS.toNanos(1)) >= 0);
            assertEquals(1, r.ready(), "round " + round);
            assertEquals(70, r.userData(0));
            assertEquals(IoUring.POLLIN, r.res(0));
            assertEquals(IoUring.IORING_CQE_F_MORE, r.flags(0) & IoUring.IORING_CQE_F_MORE, "still armed");
            r.advance(1);
            assertEquals(1, net.recv(p[1], 16));
        }
        r.pollRemove(70, 71, 0);
        Map<Long, Integer> got = new HashMap<>();
        Map<Long, Integer> flags = new HashMap<>();
        long deadline = System.nanoTime() + PATIENCE_NANOS;
        while (got.size() < 2 && System.nanoTime() < deadline) {
            assertTrue(r.submitAndWait(2 - got.size(), TimeUnit.SECONDS.toNanos(1)) >= 0);
            for (int i = 0, n = r.ready(); i < n; i++) {
                got.put(r.userData(i), r.res(i));
                flags.put(r.userData(i), r.flags(i));
            }
            r.advance(r.ready());
        }
        assertEquals(Map.of(70L, -Errno.ECANCELED, 71L, 0), got);
        assertEquals(0, flags.get(70L) & IoUring.IORING_CQE_F_MORE, "its last completion");
    }

    @Test
    void pollUpdateChangesTheMaskOfTheArmedPoll() {
        IoUring r = ring(8, 16);
        int[] p = net.pair();
        r.pollAdd(p[1], IoUring.POLLIN, 20);
        assertEquals(1, r.submitAndWait(1, SHORT_NANOS));
        assertEquals(0, r.ready(), "not readable");
        r.pollUpdate(20, IoUring.POLLOUT, 21, 0);
        Map<Long, Integer> got = await(r, 2);
        assertEquals(0, got.get(21L), "the update itself");
        assertEquals(IoUring.POLLOUT, got.get(20L), "the same poll, now waiting for POLLOUT, which is ready");
    }

    @Test
    void aSendWithWaitAllCompletesWholeWhileTheReaderDrains() throws Exception {
        IoUring r = ring(8, 16);
        int[] p = net.pair();
        int len = 1 << 20;
        NativeBuffer data = NativeBuffer.allocate(len);
        for (int i = 0; i < len; i++) data.buffer().put(i, (byte) (i * 31 + 7));
        ExecutorService reader = Executors.newSingleThreadExecutor();
        try {
            Future<Long> read = reader.submit(() -> drain(p[1], len, data));
            r.send(p[0], data.address(), len, Net.MSG_WAITALL, 30, 0);
            assertEquals(Map.of(30L, len), await(r, 1), "one completion for the whole MiB: the kernel resumed the partial sends");
            assertEquals(len, read.get(30, TimeUnit.SECONDS));
        } finally {
            reader.shutdownNow();
        }
    }

    /** Reads up to {@code len} bytes from {@code fd} (30 s at most), checking them against {@code expected}. */
    private long drain(int fd, int len, NativeBuffer expected) {
        NativeBuffer in = NativeBuffer.allocate(64 * 1024);
        long total = 0;
        long deadline = System.nanoTime() + PATIENCE_NANOS;
        try (Epoll ep = Epoll.open(k, 1)) {
            assertEquals(0, ep.add(fd, Epoll.EPOLLIN, 1));
            while (total < len && System.nanoTime() < deadline) {
                int n = k.recv(fd, in.address(), in.capacity());
                if (n == -Errno.EAGAIN) {
                    ep.wait(1000);
                    continue;
                }
                assertTrue(n > 0, () -> "recv: " + Errno.name(n));
                for (int i = 0; i < n; i++) {
                    if (in.buffer().get(i) != expected.buffer().get((int) total + i)) throw new AssertionError("byte " + (total + i) + " differs");
                }
                total += n;
            }
        }
        return total;
    }

    @Test
    void aBlockedSendIsCancelled() {
        IoUring r = ring(8, 16);
        int[] p = net.pair();
        for (int fd : p) {
            assertEquals(0, k.setsockopt_int(fd, Net.SOL_SOCKET, Net.SO_SNDBUF, 64 * 1024));
            assertEquals(0, k.setsockopt_int(fd, Net.SOL_SOCKET, Net.SO_RCVBUF, 64 * 1024));
        }
        int len = 4 << 20; // far more than the two small buffers hold: it can never complete, no one reads
        NativeBuffer data = NativeBuffer.allocate(len);
        r.send(p[0], data.address(), len, Net.MSG_WAITALL, 40, 0);
        assertEquals(1, r.submitAndWait(1, SHORT_NANOS));
        assertEquals(0, r.ready(), "blocked");
        r.cancel(40, 41, 0);
        Map<Long, Integer> got = await(r, 2);
        assertEquals(0, got.get(41L), "the cancel found it");
        // It had sent part of it before blocking: a cancelled send with progress reports the bytes sent.
        int sent = got.get(40L);
        assertTrue(sent > 0 && sent < len, "the partial count, not -ECANCELED: " + sent);

        // Now the buffers are full: a second send makes no progress, and its cancellation reads -ECANCELED.
        r.send(p[0], data.address(), 4096, Net.MSG_WAITALL, 42, 0);
        assertEquals(1, r.submitAndWait(1, SHORT_NANOS));
        assertEquals(0, r.ready(), "blocked");
        r.cancel(42, 43, 0);
        assertEquals(Map.of(42L, -Errno.ECANCELED, 43L, 0), await(r, 2));
    }

    /**
     * Unlike an epoll registration, an armed poll holds the socket itself (a reference to its file): closing the fd
     * does not close the socket, and the peer sees no FIN, until the poll completes or is removed. An io_uring loop
     * removes a socket's polls (or shuts it down, which completes them) before it closes it.
     */
    @Test
    void anArmedPollKeepsAClosedSocketOpenUntilItIsRemoved() {
        IoUring r = ring(8, 16);
        int[] plain = net.pair();
        net.closeNow(plain[1]);
        assertEquals(0, awaitEof(plain[0], PATIENCE_NANOS), "without a poll, close sends the FIN at once");

        int[] p = net.pair();
        r.pollAdd(p[1], IoUring.POLLIN, 50);
        assertEquals(1, r.submit());
        net.closeNow(p[1]);
        assertEquals(-Errno.EAGAIN, awaitEof(p[0], SHORT_NANOS), "no FIN: the poll still holds the socket");
        assertEquals(0, r.ready(), "and closing the fd did not complete the poll");
        r.pollRemove(50, 51, 0);
        assertEquals(Map.of(50L, -Errno.ECANCELED, 51L, 0), await(r, 2));
        assertEquals(0, awaitEof(p[0], PATIENCE_NANOS), "the FIN, once the poll let go");
    }

    /** recv on {@code fd} until it returns something other than -EAGAIN or {@code nanos} have passed; that result. */
    private int awaitEof(int fd, long nanos) {
        long deadline = System.nanoTime() + nanos;
        try (Epoll ep = Epoll.open(k, 1)) {
            assertEquals(0, ep.add(fd, Epoll.EPOLLIN | Epoll.EPOLLRDHUP, 1));
            int n = net.recv(fd, 1);
            while (n == -Errno.EAGAIN && System.nanoTime() < deadline) {
                ep.wait((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
                n = net.recv(fd, 1);
            }
            return n;
        }
    }

    @Test
    void aFullSubmissionQueueIsHandedOverOnItsOwn() {
        IoUring r = ring(4, 32);
        assertEquals(4, r.sqEntries());
        for (long i = 0; i < 20; i++) {
            r.nop(i, 0);
            assertTrue(r.queued() <= 4, "queued " + r.queued());
        }
        Map<Long, Integer> got = await(r, 20);
        for (long i = 0; i < 20; i++) assertEquals(0, got.get(i), "nop " + i);
    }

    /** How other threads wake the loop: a poll on an eventfd they write to completes the loop's wait. */
    @Test
    void anotherThreadWakesTheWaitThroughAPolledEventfd() throws Exception {
        IoUring r = ring(8, 16);
        int efd = net.track(k.eventfd());
        r.pollAdd(efd, IoUring.POLLIN, 60);
        assertEquals(1, r.submitAndWait(1, SHORT_NANOS));
        assertEquals(0, r.ready(), "nothing written yet");
        Thread writer = new Thread(() -> k.eventfd_write(efd), "eventfd-writer");
        writer.start();
        long deadline = System.nanoTime() + PATIENCE_NANOS;
        while (r.ready() == 0 && System.nanoTime() < deadline) {
            assertTrue(r.submitAndWait(1, -1) >= 0); // no timeout: only the write can end this wait
        }
        assertTrue(joined(writer));
        assertEquals(1, r.ready());
        assertEquals(60, r.userData(0));
        assertEquals(IoUring.POLLIN, r.res(0));
        r.advance(1);
        assertEquals(1, k.eventfd_read(efd));
    }

    @Test
    void aFullCompletionQueueLosesNothing() {
        IoUring r = ring(4, 8);
        assertEquals(8, r.cqEntries());
        for (long i = 0; i < 20; i++) r.nop(i, 0);
        assertEquals(4, r.submit(), "the last four; the first sixteen went with the hand-overs");
        assertEquals(8, r.ready(), "full: the other twelve wait in the kernel");
        List<Long> order = new ArrayList<>();
        long deadline = System.nanoTime() + PATIENCE_NANOS;
        while (order.size() < 20 && System.nanoTime() < deadline) {
            int n = r.ready();
            for (int i = 0; i < n; i++) order.add(r.userData(i));
            r.advance(n);
            assertTrue(r.submitAndWait(0, -1) >= 0);
        }
        List<Long> expected = new ArrayList<>();
        for (long i = 0; i < 20; i++) expected.add(i);
        assertEquals(expected, order, "every completion, in order");
        assertEquals(0, r.overflowed(), "none dropped");
    }

    @Test
    void aTimedWaitWithNothingPendingReturnsZero() {
        IoUring r = ring(8, 16);
        r.nop(1, 0); // a completion is possible: it comes within the same kind of wait
        assertEquals(1, r.submitAndWait(1, TimeUnit.SECONDS.toNanos(30)));
        assertEquals(1, r.ready());
        r.advance(1);
        assertEquals(0, r.submitAndWait(1, SHORT_NANOS), "-ETIME is 0");
        assertEquals(0, r.ready());
        assertEquals(0, r.submitAndWait(0, -1), "minComplete 0 returns at once");
    }

    @Test
    void closeClosesTheRingsFdOnceAndRefusesFurtherUse() throws IOException {
        IoUring r = ring(8, 16);
        Path link = Path.of("/proc/self/fd/" + r.fd());
        assertEquals("anon_inode:[io_uring]", Files.readSymbolicLink(link).toString());
        r.close();
        r.close(); // idempotent: the fd number, maybe someone else's by now, is not closed twice
        assertFalse(Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                && Files.readSymbolicLink(link).toString().equals("anon_inode:[io_uring]"), "still open");
        assertThrows(IllegalStateException.class, () -> r.nop(1, 0));
        assertThrows(IllegalStateException.class, r::ready);
        assertThrows(IllegalStateException.class, () -> r.submitAndWait(0, -1));
    }

    @Test
    void withSingleIssuerOnlyTheCreatingThreadMaySubmit() throws Exception {
        IoUring r = ring(8, 16);
        Assumptions.assumeTrue(r.deferTaskrun(), "SINGLE_ISSUER needs Linux 6.0");
        r.nop(1, 0);
        ExecutorService other = Executors.newSingleThreadExecutor();
        try {
            assertEquals(-Errno.EEXIST, other.submit(() -> r.submitAndWait(1, -1)).get(30, TimeUnit.SECONDS));
            assertEquals(Map.of(1L, 0), await(r, 1), "this thread still can");
        } finally {
            other.shutdownNow();
        }
    }

    @Test
    void aDisabledRingBelongsToTheThreadThatEnablesIt() throws Exception {
        IoUring r;
        try {
            r = IoUring.openDisabled(k, 8, 16);
        } catch (SyscallException e) {
            Assumptions.assumeFalse(e.errno() == Errno.ENOSYS || e.errno() == Errno.EPERM, e.getMessage());
            throw e;
        }
        rings.add(r);
        r.nop(5, 0); // written before the loop thread takes the ring
        assertEquals(-Errno.EBADFD, r.submit(), "disabled");
        ExecutorService loop = Executors.newSingleThreadExecutor();
        try {
            Future<Map<Long, Integer>> got = loop.submit(() -> {
                assertEquals(0, r.enable());
                return await(r, 1);
            });
            assertEquals(Map.of(5L, 0), got.get(30, TimeUnit.SECONDS));
            if (r.deferTaskrun()) {
                r.nop(6, 0);
                assertEquals(-Errno.EEXIST, r.submitAndWait(1, -1), "the ring is the enabling thread's now");
            }
        } finally {
            loop.shutdownNow();
        }
    }

    @Test
    void aRefusedSetupNamesTheCallAndTheReason() {
        Kernel refusing = InterposedKernel.over(k, (name, args, real) -> name.equals("io_uring_setup") ? -Errno.EPERM : real.invoke());
        SyscallException e = assertThrows(SyscallException.class, () -> IoUring.open(refusing, 8, 16));
        assertEquals(Errno.EPERM, e.errno());
        assertTrue(e.getMessage().startsWith("io_uring_setup (refused by sysctl kernel.io_uring_disabled or a seccomp filter): EPERM"),
                e.getMessage());
    }

    @Test
    void aKernelWithoutDeferTaskrunGetsARingWithCqSizeAlone() throws InterruptedException {
        AtomicInteger calls = new AtomicInteger();
        AtomicLong lastFlags = new AtomicLong();
        Kernel old = InterposedKernel.over(k, (name, args, real) -> {
            if (!name.equals("io_uring_setup")) return real.invoke();
            calls.incrementAndGet();
            int flags = com.kenai.jffi.MemoryIO.getInstance().getInt((long) args[1] + IoUringLayout.PARAMS_FLAGS);
            lastFlags.set(flags);
            return (flags & IoUring.IORING_SETUP_DEFER_TASKRUN) != 0 ? -Errno.EINVAL : real.invoke();
        });
        IoUring r;
        try {
            r = IoUring.open(old, 8, 16);
        } catch (SyscallException e) {
            Assumptions.assumeFalse(e.errno() == Errno.ENOSYS || e.errno() == Errno.EPERM, e.getMessage());
            throw e;
        }
        rings.add(r);
        assertEquals(2, calls.get());
        assertEquals(IoUring.IORING_SETUP_CQSIZE, lastFlags.get());
        assertFalse(r.deferTaskrun());
        r.nop(7, 0);
        assertEquals(Map.of(7L, 0), await(r, 1));
        AtomicBoolean anyThread = new AtomicBoolean();
        Thread t = new Thread(() -> {
            r.nop(8, 0);
            anyThread.set(r.submit() == 1);
        });
        t.start();
        assertTrue(joined(t));
        assertTrue(anyThread.get(), "without SINGLE_ISSUER any thread may submit");
        assertEquals(Map.of(8L, 0), await(r, 1));
    }

    private static boolean joined(Thread t) throws InterruptedException {
        t.join(TimeUnit.SECONDS.toMillis(30));
        return !t.isAlive();
    }
}
