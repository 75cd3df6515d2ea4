package org.epollproxy.loop;

import static org.epollproxy.shim.Epoll.EPOLLIN;
import static org.epollproxy.shim.Epoll.EPOLLOUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.InterposedKernel;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.NativeBuffer;
import org.epollproxy.shim.Net;
import org.epollproxy.shim.SockAddr;
import org.epollproxy.shim.Rings;
import org.epollproxy.shim.Shim;
import org.epollproxy.shim.SyscallException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * The loop on io_uring ({@link UringPoller}): the events a level-triggered epoll gives, from one-shot
 * polls armed again after each event; stale completions dropped by their arm number; interest changes
 * applied once per iteration; sends whose result reaches their owner.
 */
@Isolated // one test holds 9,216 fds at once, which could leave a test beside it without one
class UringLoopTest {
    private final Kernel k = Shim.load();
    private final List<String> errors = new ArrayList<>();
    private final EventLoop loop = new EventLoop(k, 0, errors::add, System::nanoTime, true);
    private final List<Integer> fds = new ArrayList<>();

    @BeforeAll
    static void kernelAllowsARing() {
        Rings.assumeAllowed();
    }

    @AfterEach
    void close() {
        for (int fd : fds) k.close(fd);
        loop.close();
        assertEquals(List.of(), errors);
    }

    private int readableFd() {
        int fd = k.eventfd();
        fds.add(fd);
        k.eventfd_write(fd);
        return fd;
    }

    private static Handler handler(java.util.function.IntConsumer onEvent) {
        return new Handler() {
            @Override
            public void onEvent(int events) {
                onEvent.accept(events);
            }

            @Override
            public void onFailure(RuntimeException e) {}
        };
    }

    @Test
    void aReadyFdIsReportedAgainEachIterationUntilItIsNotLikeLevelTriggeredEpoll() {
        int fd = readableFd();
        List<Integer> seen = new ArrayList<>();
        long t = loop.register(fd, handler(seen::add));
        loop.setInterest(t, EPOLLIN);
        for (int i = 0; i < 3; i++) assertEquals(1, loop.runOnce(5000));
        assertEquals("io_uring", loop.pollerName());
        assertEquals(List.of(EPOLLIN, EPOLLIN, EPOLLIN), seen, "still readable: reported every time");
        assertEquals(1, k.eventfd_read(fd) >= 0 ? 1 : 0);
        assertEquals(0, loop.runOnce(50), "drained: nothing more");
        assertTrue(loop.stats().ringPolls >= 4, "one poll armed per event: " + loop.stats().ringPolls);
    }

    @Test
    void theMaskAtTheEndOfAnIterationIsTheOneArmed() {
        int fd = readableFd(); // readable and writable
        List<Integer> seen = new ArrayList<>();
        long t = loop.register(fd, handler(seen::add));
        loop.setInterest(t, EPOLLIN);
        loop.setInterest(t, 0);
        loop.setInterest(t, EPOLLOUT);
        assertEquals(1, loop.runOnce(5000));
        assertEquals(List.of(EPOLLOUT), seen, "only what the last mask asks");
        long before = loop.stats().ringPolls;
        loop.setInterest(t, 0);
        assertEquals(0, loop.runOnce(50), "mask 0: the poll was removed");
        assertEquals(before, loop.stats().ringPolls);
    }

    @Test
    void anEventForAnFdClosedEarlierInTheSameBatchIsStaleNotMisdelivered() {
        assertEquals(1, EventLoopTest.staleEventInOneBatch(loop, k, fds), "both completed in one batch, the second one stale");
    }

    /**
     * A poll the kernel refuses to arm (here -EBADF: a handler closed its fd without releasing it; -ENOMEM
     * under memory pressure) completes at once. Reported as EPOLLERR and armed again at once, it failed
     * again at once: the loop never slept, one failure per iteration, for ever. It is the handler's failure
     * now (as a failed epoll_ctl is a failed setInterest: a pair ends), said once on the log, counted, and a
     * slot still registered after it is armed again no sooner than {@link UringPoller#POLL_RETRY_NANOS} later.
     */
    @Test
    void aPollTheKernelRefusesFailsItsHandlerAndIsRetriedAtABoundedRate() {
        loop.runOnce(0); // on the ring
        int fd = 1 << 20; // a number no file has (a handler that closed its fd and kept it registered): -EBADF
        List<Integer> seen = new ArrayList<>();
        List<RuntimeException> failures = new ArrayList<>();
        long t = loop.register(fd, new Handler() {
            @Override
            public void onEvent(int events) {
                seen.add(events);
            }

            @Override
            public void onFailure(RuntimeException e) {
                failures.add(e); // and stays registered, as a listener does
            }
        });
        loop.setInterest(t, EPOLLIN);
        long t0 = System.nanoTime();
        int iterations = 30;
        for (int i = 0; i < iterations || failures.size() < 3; i++) {
            assertTrue(System.nanoTime() - t0 < 60_000_000_000L, "3 retries did not fail within 60 s: " + failures);
            loop.runOnce(20);
        }
        long elapsed = System.nanoTime() - t0;
        assertEquals(List.of(), seen, "no readiness was reported: the poll never armed");
        assertTrue(!failures.isEmpty() && failures.get(0).getMessage().contains("EBADF"), "the handler heard why: " + failures);
        long bound = 1 + elapsed / UringPoller.POLL_RETRY_NANOS;
        assertTrue(failures.size() <= bound, failures.size() + " failures in " + elapsed / 1_000_000 + " ms: retried faster than "
                + UringPoller.POLL_RETRY_NANOS / 1_000_000 + " ms apart (a spin)");
        assertEquals(failures.size(), loop.stats().ringPollFailures);
        // The log gets a line at once, and then at most one per interval however often a retry fails.
        assertTrue(!errors.isEmpty() && errors.get(0).contains("fd " + fd) && errors.get(0).contains("EBADF"), errors.toString());
        assertTrue(errors.size() <= 1 + elapsed / EventLoop.POLL_REFUSAL_LOG_NANOS,
                errors.size() + " lines for " + failures.size() + " refusals in " + elapsed / 1_000_000 + " ms: " + errors);
        errors.clear();
        loop.release(t, false);
    }

    /**
     * More fds become ready in one iteration than the SQ (1,024) and the CQ (8,192) hold: the polls are handed
     * over a full SQ at a time, the completions beyond the CQ wait in the kernel (IORING_FEAT_NODROP) and the
     * next enter posts them. None is lost, none comes twice.
     */
    @Test
    void moreReadyFdsThanTheRingsHoldAreAllReportedOnce() {
        int count = UringPoller.CQ_ENTRIES + UringPoller.SQ_ENTRIES;
        int[] reported = new int[count];
        for (int i = 0; i < count; i++) {
            int fd = readableFd();
            int index = i;
            loop.setInterest(loop.register(fd, handler(ev -> {
                reported[index]++;
                k.eventfd_read(fd); // drained: not readable any more
            })), EPOLLIN);
        }
        int first = loop.runOnce(5000);
        assertTrue(first <= UringPoller.CQ_ENTRIES, "one enter delivers at most what the CQ holds: " + first);
        int total = first;
        for (int i = 0; i < 20 && total < count; i++) total += loop.runOnce(1000);
        assertEquals(count, total, "every fd's event, the overflow's too");
        for (int i = 0; i < count; i++) assertEquals(1, reported[i], "fd #" + i);
        assertEquals(0, loop.stats().staleEvents);
        assertEquals(0, loop.runOnce(50), "drained: nothing more");
    }

    @Test
    void timersAndTasksFromOtherThreadsWakeTheRing() throws Exception {
        List<String> fired = new ArrayList<>();
        loop.schedule(new Timer() {
            @Override
            protected void onTimer(long now) {
                fired.add("20ms");
            }
        }, System.nanoTime() + 20_000_000);
        long t0 = System.nanoTime();
        while (fired.isEmpty() && System.nanoTime() - t0 < 5_000_000_000L) loop.runOnce(-1);
        assertEquals(List.of("20ms"), fired, "the enter's timeout ends at the deadline");
    }

    @Test
    void aTaskFromAnotherThreadWakesALoopBlockedInTheRing() throws Exception {
        // The ring is the thread's that runs the loop first (IORING_SETUP_SINGLE_ISSUER): a loop of its own.
        try (EventLoop other = new EventLoop(k, 1, errors::add, System::nanoTime, true)) {
            CountDownLatch ran = new CountDownLatch(1);
            CountDownLatch onRing = new CountDownLatch(1);
            Thread t = new Thread(() -> {
                other.runOnce(0);
                onRing.countDown();
                while (ran.getCount() > 0) other.runOnce(-1); // blocks in io_uring_enter until woken
            });
            t.start();
            assertTrue(onRing.await(10, TimeUnit.SECONDS));
            other.execute(ran::countDown);
            assertTrue(ran.await(10, TimeUnit.SECONDS));
            t.join(10_000);
            assertEquals("io_uring", other.pollerName());
        }
    }

    /**
     * A send queued and cancelled in the same iteration (its pair closed) never reaches the kernel. An SQE
     * names its socket by fd number, looked up when the kernel takes the SQE at the next enter: had the send
     * been written at once, the pair's close and an accept in the same iteration could hand its fd number to
     * a new connection, and the old connection's bytes would go to the new client. So a send's SQE is written
     * only right before the enter, and a cancel before that drops it.
     */
    @Test
    void aSendCancelledBeforeTheNextWaitNeverReachesTheSocket() {
        loop.runOnce(0);
        int[] pair = connectedPair();
        NativeBuffer buf = NativeBuffer.allocate(5);
        buf.buffer().put(0, (byte) 'x');
        List<Integer> results = new ArrayList<>();
        int h = loop.sendAsync(pair[0], buf.address(), 1, owner(results));
        loop.cancelSend(h);
        long t0 = System.nanoTime();
        while (results.isEmpty() && System.nanoTime() - t0 < 5_000_000_000L) loop.runOnce(100);
        assertEquals(List.of(-Errno.ECANCELED), results, "the owner hears it was cancelled");
        // A send that reached the kernel is on the peer's socket when its completion comes; nothing is.
        assertEquals(-Errno.EAGAIN, k.recv(pair[1], buf.address() + 1, 4), "no byte reached the peer");
        int h2 = loop.sendAsync(pair[0], buf.address(), 1, owner(results));
        while (results.size() < 2 && System.nanoTime() - t0 < 10_000_000_000L) loop.runOnce(100);
        assertEquals(List.of(-Errno.ECANCELED, 1), results, "a send that is not cancelled goes");
        assertEquals(1, k.recv(pair[1], buf.address() + 1, 4));
        assertTrue(h2 >= 0);
    }

    /**
     * An enter may take fewer SQEs than were queued: -EAGAIN (no memory for requests, io_uring_enter(2)), and
     * -EBUSY or a failed request that stops the batch on the kernels without IORING_SETUP_SUBMIT_ALL. A send
     * left in the SQ was taken only at the next enter, after this iteration's handlers ran: its pair could
     * close its fd meanwhile and an accept get the number back, and the send, cancelled by user_data after it
     * in the same enter, went to the new connection first. Every SQE is now taken before a handler runs.
     */
    @Test
    void aSendTheEnterDidNotTakeReachesItsOwnSocketNotTheNextOneWithItsNumber() {
        AtomicBoolean takeNothing = new AtomicBoolean();
        Kernel refusingOnce = InterposedKernel.over(k, (name, args, call) ->
                name.equals("io_uring_enter") && (int) args[1] > 0 && takeNothing.getAndSet(false) ? -Errno.EAGAIN : call.invoke());
        try (EventLoop l = new EventLoop(refusingOnce, 1, errors::add, System::nanoTime, true)) {
            l.runOnce(0);
            int[] old = connectedPair();
            NativeBuffer buf = NativeBuffer.allocate(8);
            buf.buffer().put(0, (byte) 'x');
            List<Integer> results = new ArrayList<>();
            int h = l.sendAsync(old[0], buf.address(), 1, owner(results));
            takeNothing.set(true);
            l.runOnce(0); // its enter takes nothing
            // The next client is queued on a listener; the pair closes (cancel, close) and the accept reuses the number.
            l.cancelSend(h);
            int next = closedAndAcceptedAgain(old[0]);
            long t0 = System.nanoTime();
            while (results.isEmpty() && System.nanoTime() - t0 < 10_000_000_000L) l.runOnce(100);
            assertEquals(1, results.size(), "the owner heard how the send ended: " + results);
            assertEquals(-Errno.EAGAIN, k.recv(next, buf.address() + 1, 4), "the old connection's byte reached the new client");
            assertEquals(List.of(1), results, "sent in the first iteration, to its own socket");
            assertEquals(1, k.recv(old[1], buf.address() + 1, 4));
        }
    }

    /**
     * A loop whose enter keeps taking nothing (-EAGAIN a thousand times) dies rather than run handlers with
     * sends still in the SQ. Its connections are then reset and their fds closed, and other loops may accept
     * and get the numbers back; closing the dead loop's ring must not hand over what it left queued, or a
     * send goes to whichever connection has its fd number now.
     */
    @Test
    void aLoopThatDiesWithSendsLeftInTheRingDoesNotSendThemWhenItCloses() {
        AtomicBoolean takeNothing = new AtomicBoolean();
        EventLoop l = loopWhoseEntersTakeNothingWhile(takeNothing);
        int[] old = connectedPair();
        NativeBuffer buf = oneByte();
        List<Integer> results = new ArrayList<>();
        l.sendAsync(old[0], buf.address(), 1, owner(results));
        takeNothing.set(true);
        SyscallException died = assertThrows(SyscallException.class, () -> l.runOnce(0));
        assertTrue(died.getMessage().contains("would not take"), died.getMessage());
        // The dead loop's connection is reset and closed; another loop accepts and gets its number.
        int next = closedAndAcceptedAgain(old[0]);
        takeNothing.set(false); // the kernel would take them now
        l.close();
        assertEquals(-Errno.EAGAIN, k.recv(next, buf.address() + 1, 4), "the dead loop's byte reached the new client");
    }

    /** A loop on io_uring, switched to its ring, whose enters hand nothing over (-EAGAIN) while {@code takeNothing} is set. */
    private EventLoop loopWhoseEntersTakeNothingWhile(AtomicBoolean takeNothing) {
        Kernel refusing = InterposedKernel.over(k, (name, args, call) ->
                name.equals("io_uring_enter") && (int) args[1] > 0 && takeNothing.get() ? -Errno.EAGAIN : call.invoke());
        EventLoop l = new EventLoop(refusing, 1, errors::add, System::nanoTime, true);
        l.runOnce(0);
        return l;
    }

    /** A buffer whose first byte is 'x'. */
    private static NativeBuffer oneByte() {
        NativeBuffer buf = NativeBuffer.allocate(8);
        buf.buffer().put(0, (byte) 'x');
        return buf;
    }

    /**
     * Closes {@code fd} and accepts a connection under its number: a pair that closes and the next client of the
     * same iteration, which gets the lowest free number. Returns the new client's own socket, non-blocking.
     */
    private int closedAndAcceptedAgain(int fd) {
        NativeBuffer addr = NativeBuffer.allocate(SockAddr.SIZE);
        int lfd = track(k.socket(Net.AF_INET, Net.SOCK_STREAM | Net.SOCK_NONBLOCK | Net.SOCK_CLOEXEC, 0));
        SockAddr.parse("127.0.0.1", 0).write(addr.buffer(), 0);
        assertEquals(0, k.bind(lfd, addr.address()));
        assertEquals(0, k.listen(lfd, 4));
        assertEquals(0, k.getsockname(lfd, addr.address()));
        int next = track(k.socket(Net.AF_INET, Net.SOCK_STREAM | Net.SOCK_CLOEXEC, 0)); // blocking: connected on return
        assertEquals(0, k.connect(next, addr.address()));
        assertEquals(0, k.set_nonblocking(next));
        int accepted = k.accept(lfd, 0);
        assertTrue(accepted >= 0, "accept: " + accepted);
        // The accepted socket takes fd's number in place of fd's socket, which dup3 closes: in one step, where a
        // close and then the accept could lose the number to any thread of this JVM that opens a file in between
        // (the leftover threads of classes that ran before do: "dup gave 51 on the way to fd 45").
        assertEquals(fd, k.dup3(accepted, fd));
        k.close(accepted);
        return next;
    }

    /**
     * As above, with more sends than the SQ holds: the loop dies while writing them (the full SQ's hand-over
     * takes nothing), and resetting its connections cancels each send, which writes SQEs into the full SQ: had
     * that handed it over, the sends would have gone out on the reused numbers before the ring was closed.
     */
    @Test
    void aLoopThatDiesWritingAFullRingNeitherSendsWhenItsConnectionsResetNorWhenItCloses() {
        AtomicBoolean takeNothing = new AtomicBoolean();
        EventLoop l = loopWhoseEntersTakeNothingWhile(takeNothing);
        int[] old = connectedPair();
        NativeBuffer buf = oneByte();
        List<Integer> results = new ArrayList<>();
        int[] handles = new int[UringPoller.SQ_ENTRIES + 100];
        for (int i = 0; i < handles.length; i++) handles[i] = l.sendAsync(old[0], buf.address(), 1, owner(results));
        takeNothing.set(true);
        assertThrows(SyscallException.class, () -> l.runOnce(0));
        int next = closedAndAcceptedAgain(old[0]);
        takeNothing.set(false); // the kernel would take them now
        for (int h : handles) l.cancelSend(h); // what resetting the dead loop's connections does
        assertEquals(-Errno.EAGAIN, k.recv(next, buf.address() + 1, 4), "the dead loop's bytes reached the new client");
        l.close();
        assertEquals(-Errno.EAGAIN, k.recv(next, buf.address() + 1, 4), "the dead loop's bytes reached the new client");
        assertEquals(handles.length - UringPoller.SQ_ENTRIES, results.size(), "the sends never written into the ring ended");
    }

    private static SendCompletion owner(List<Integer> results) {
        return new SendCompletion() {
            @Override
            public void onSent(int result) {
                results.add(result);
            }

            @Override
            public void onFailure(RuntimeException e) {}
        };
    }

    /** {client, server}: a connected TCP pair on 127.0.0.1 made through the shim, non-blocking, closed after the test. */
    private int[] connectedPair() {
        NativeBuffer addr = NativeBuffer.allocate(SockAddr.SIZE);
        int l = track(k.socket(Net.AF_INET, Net.SOCK_STREAM | Net.SOCK_NONBLOCK | Net.SOCK_CLOEXEC, 0));
        SockAddr.parse("127.0.0.1", 0).write(addr.buffer(), 0);
        assertEquals(0, k.bind(l, addr.address()));
        assertEquals(0, k.listen(l, 4));
        assertEquals(0, k.getsockname(l, addr.address()));
        int c = track(k.socket(Net.AF_INET, Net.SOCK_STREAM | Net.SOCK_CLOEXEC, 0)); // blocking: connected on return
        assertEquals(0, k.connect(c, addr.address()));
        int s = -Errno.EAGAIN;
        long t0 = System.nanoTime();
        while (s == -Errno.EAGAIN && System.nanoTime() - t0 < 10_000_000_000L) s = k.accept(l, 0);
        return new int[] {c, track(s)};
    }

    private int track(int fd) {
        assertTrue(fd >= 0, "an fd: " + fd);
        fds.add(fd);
        return fd;
    }

    @Test
    void aSendsResultReachesItsOwnerInALaterIteration() {
        loop.runOnce(0); // the switch to the ring happens in the first iteration
        assertTrue(loop.sendsAsync());
        int notASocket = readableFd();
        NativeBuffer buf = NativeBuffer.allocate(8);
        List<Integer> results = new ArrayList<>();
        loop.sendAsync(notASocket, buf.address(), 8, new SendCompletion() {
            @Override
            public void onSent(int result) {
                results.add(result);
            }

            @Override
            public void onFailure(RuntimeException e) {}
        });
        long t0 = System.nanoTime();
        while (results.isEmpty() && System.nanoTime() - t0 < 5_000_000_000L) loop.runOnce(100);
        assertEquals(List.of(-Errno.ENOTSOCK), results, "send(2) on an eventfd: its errno, to the owner");
        assertEquals(1, loop.stats().ringSends);
        assertEquals(1, loop.stats().ringSendErrors);
    }
}
