package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.epollproxy.shim.InterposedKernel;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.Shim;
import org.epollproxy.shim.SockAddr;
import org.junit.jupiter.api.Test;

/**
 * The address a listening socket is bound to lives in a direct buffer, freed by its Cleaner once
 * unreachable, and bind takes only its address (a long). Compiled code may drop the buffer as soon as the
 * address is read; a collection during the call then frees the memory bind reads, and malloc's free-list
 * pointer becomes the address family: "bind 127.0.0.1:38131: EAFNOSUPPORT" in LoopDeathTest, whose
 * interposed kernel allocates in every call, on a loaded machine. Here a collection runs inside every
 * bind, after Sockets.open has been called often enough to be compiled.
 */
class BindAddressLifetimeTest {
    /** Never reaches the kernel: the warm-up answers every call itself. */
    private static final int FAKE_FD = Integer.MAX_VALUE - 1;
    /** Rounds of warm-up and a collected bind: the compiler works in the background, so one round may be early. */
    private static final int ROUNDS = 3;

    @Test
    void aCollectionDuringBindDoesNotFreeTheAddressItReads() throws Exception {
        Kernel real = Shim.load();
        AtomicBoolean warmingUp = new AtomicBoolean();
        Kernel k = InterposedKernel.over(real, (name, args, call) -> {
            if (warmingUp.get()) { // no system call: thousands of opens cost milliseconds, and compile the path
                switch (name) {
                    case "socket":
                        return FAKE_FD;
                    case "setsockopt_int":
                    case "bind":
                    case "listen":
                        return 0;
                    default:
                        throw new AssertionError("unexpected during the warm-up: " + name);
                }
            }
            if (name.equals("bind")) collectAndClean();
            return call.invoke();
        });
        SockAddr loopback = SockAddr.parse("127.0.0.1", 0);
        for (int round = 0; round < ROUNDS; round++) {
            warmingUp.set(true);
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
            for (int i = 0; i < 100_000 && (i < 5_000 || System.nanoTime() < end); i++) Sockets.listenTcp(k, loopback, false, 1);
            warmingUp.set(false);
            int fd = Sockets.listenTcp(k, loopback, false, 1); // without the fence: SyscallException, EAFNOSUPPORT
            assertTrue(fd >= 0);
            real.close(fd);
        }
    }

    /**
     * Full collections until the Cleaners of what the first one found unreachable have run: the Reference
     * Handler runs a direct buffer's Cleaner among the references of the collection that found it (JDK 17),
     * batch after batch, so a sentinel of a later collection arrives after it. Three, for a JDK whose
     * Cleaner thread runs them on its own.
     */
    private static void collectAndClean() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            ReferenceQueue<Object> q = new ReferenceQueue<>();
            WeakReference<Object> sentinel = new WeakReference<>(new Object(), q);
            System.gc();
            if (q.remove(30_000) == null) throw new AssertionError("no collection cleared a weak reference within 30 s");
            Reference.reachabilityFence(sentinel);
        }
    }
}
