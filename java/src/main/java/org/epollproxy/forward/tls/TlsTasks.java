package org.epollproxy.forward.tls;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.epollproxy.loop.EventLoop;

/**
 * Where the handshakes' CPU-heavy steps run (the engine's delegated tasks: key exchange, signatures,
 * certificate checks; about a millisecond for an RSA-2048 signature). On the loop they would hold up every
 * other connection of that loop for as long; here they run on a few daemon threads and the result goes back
 * to the loop thread through {@link EventLoop#execute} (its eventfd wakeup). With the system property
 * {@code epollproxy.tls.inlineTasks=true} they run on the loop instead (to measure the difference).
 */
public final class TlsTasks {
    private static final boolean INLINE = Boolean.getBoolean("epollproxy.tls.inlineTasks");
    private static final AtomicInteger NAMES = new AtomicInteger();
    /**
     * One thread fewer than the CPUs (at least one), so the loops keep a CPU while handshakes pour in;
     * {@code -Depollproxy.tls.taskThreads=N} sets it.
     */
    static final int THREADS = Integer.getInteger("epollproxy.tls.taskThreads", Math.max(1, Runtime.getRuntime().availableProcessors() - 1));
    private static final ExecutorService POOL = Executors.newFixedThreadPool(THREADS, r -> {
        Thread t = new Thread(r, "epoll-proxy-tls-" + NAMES.incrementAndGet());
        t.setDaemon(true);
        return t;
    });

    /**
     * Runs {@code channel}'s delegated tasks, then {@code then} on {@code loop}'s thread (dropped if the loop
     * closed). A channel released before its turn came (the client left, its handshake timed out, the proxy
     * shuts down) is skipped: its key exchange and signature would be CPU spent for nobody, and a flood of
     * clients that send a ClientHello and leave would keep the pool busy with them while live clients wait.
     */
    public static void run(TlsChannel channel, EventLoop loop, Runnable then) {
        if (INLINE) {
            channel.runTasks();
            then.run();
            return;
        }
        channel.taskOut(true);
        POOL.execute(() -> {
            try {
                if (!channel.released()) channel.runTasks();
            } catch (RuntimeException e) {
                // the engine reports the failure at the next handshake step, on the loop
            } finally {
                channel.taskOut(false);
            }
            loop.execute(then);
        });
    }

    private TlsTasks() {}
}
