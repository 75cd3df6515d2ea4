package org.epollproxy.forward;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.epollproxy.loop.EventLoop;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.SockAddr;
import org.epollproxy.shim.SyscallException;
import org.epollproxy.shim.TracingKernel;

/**
 * The running proxy: {@code settings.threads} event loops, each on its own thread with its own epoll
 * fd, its own {@link Forwarder} and its own listening socket per forward (SO_REUSEPORT when there are
 * several, so the kernel spreads new connections across loops without any lock between them).
 */
public final class Proxy {
    private final Kernel kernel;
    private final Settings settings;
    private final PrintStream err;
    private final List<Worker> workers = new ArrayList<>();
    private final AtomicInteger openTotal = new AtomicInteger();
    private final CountDownLatch stopped;
    private List<Forward> bound = List.of();

    private static final class Worker {
        final EventLoop loop;
        final Forwarder forwarder;
        Thread thread;

        Worker(EventLoop loop, Forwarder forwarder) {
            this.loop = loop;
            this.forwarder = forwarder;
        }
    }

    public Proxy(Kernel kernel, Settings settings, PrintStream err) {
        this.kernel = kernel;
        this.settings = settings;
        this.err = err;
        this.stopped = new CountDownLatch(settings.threads);
    }

    /**
     * Binds every forward on every loop, or nothing: if one bind fails, the sockets bound so far are
     * closed and the {@link SyscallException} (naming the address and errno) propagates. Then starts
     * the loop threads. Returns the forwards as bound (port 0 replaced by the real port).
     */
    public List<Forward> start(List<Forward> forwards) {
        for (int i = 0; i < settings.threads; i++) {
            Kernel k = settings.trace
                    ? new TracingKernel(kernel, err, settings.threads > 1 ? "[loop " + i + "] " : "")
                    : kernel;
            EventLoop loop = new EventLoop(k, i, msg -> err.println(msg));
            workers.add(new Worker(loop, new Forwarder(loop, settings, new Log(err), openTotal)));
        }
        List<int[]> fdsPerForward = new ArrayList<>();
        List<Forward> result = new ArrayList<>();
        try {
            for (Forward f : forwards) {
                int[] fds = bindAll(f.bind());
                fdsPerForward.add(fds);
                result.add(f.boundTo(Sockets.localAddress(kernel, fds[0])));
            }
        } catch (RuntimeException e) {
            for (int[] fds : fdsPerForward) for (int fd : fds) kernel.close(fd);
            for (Worker w : workers) w.loop.close();
            workers.clear();
            throw e;
        }
        for (int f = 0; f < result.size(); f++) {
            for (int i = 0; i < workers.size(); i++) workers.get(i).forwarder.addListener(result.get(f), fdsPerForward.get(f)[i]);
        }
        bound = List.copyOf(result);
        for (Worker w : workers) {
            w.thread = new Thread(() -> runLoop(w), "epoll-loop-" + w.loop.id());
            w.thread.start();
        }
        return bound;
    }

    /** One listening fd per loop for {@code addr}; with several loops they share it via SO_REUSEPORT. */
    private int[] bindAll(SockAddr addr) {
        int n = workers.size();
        int[] fds = new int[n];
        int done = 0;
        try {
            if (n > 1 && addr.port() != 0) {
                // SO_REUSEPORT would let us silently join another process's group on this port;
                // a plain bind first proves the port is free.
                int probe = Sockets.listenTcp(kernel, addr, false, 1);
                kernel.close(probe);
            }
            SockAddr a = addr;
            for (; done < n; done++) {
                fds[done] = Sockets.listenTcp(kernel, a, n > 1, settings.backlog);
                if (done == 0) a = Sockets.localAddress(kernel, fds[0]);
            }
            return fds;
        } catch (SyscallException e) {
            for (int i = 0; i < done; i++) kernel.close(fds[i]);
            throw e;
        }
    }

    private void runLoop(Worker w) {
        try {
            w.loop.run();
        } catch (RuntimeException e) {
            err.println("loop " + w.loop.id() + " failed: " + e);
        } finally {
            try {
                w.forwarder.closeAll();
            } finally {
                w.loop.close();
                stopped.countDown();
            }
        }
    }

    public List<Forward> forwards() {
        return bound;
    }

    public int openConnections() {
        return openTotal.get();
    }

    /** Stops accepting, closes every connection and listener; returns when all loops ended or timed out. */
    public boolean stop(long timeout, TimeUnit unit) throws InterruptedException {
        for (Worker w : workers) w.loop.stop();
        return stopped.await(timeout, unit);
    }

    /** Blocks until every loop has ended. */
    public void await() throws InterruptedException {
        stopped.await();
    }

    /** Runs {@code task(loopIndex, forwarder)} on every loop's thread; for tests and the stats view. */
    public void onEachLoop(java.util.function.BiConsumer<Integer, Forwarder> task) {
        for (Worker w : workers) w.loop.execute(() -> task.accept(w.loop.id(), w.forwarder));
    }

    public List<EventLoop> loops() {
        List<EventLoop> out = new ArrayList<>();
        for (Worker w : workers) out.add(w.loop);
        return out;
    }

    public List<Forwarder> forwarders() {
        List<Forwarder> out = new ArrayList<>();
        for (Worker w : workers) out.add(w.forwarder);
        return out;
    }
}
