package org.epollproxy.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongPredicate;
import java.util.function.LongSupplier;
import org.epollproxy.forward.Backend;
import org.epollproxy.forward.EndReason;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.ForwardStats;
import org.epollproxy.forward.Settings;
import org.epollproxy.loop.EventLoop;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.SockAddr;

/**
 * Connections through the proxy's own code before it takes real traffic, so the JIT has compiled the hot
 * path by the time the {@code listening} line is printed: a restarted or upgraded proxy serves its first
 * second at the speed of its tenth instead of at the interpreter's.
 *
 * <p>A private forward on loopback (127.0.0.1, port 0, one loop, the real settings, its log lines written
 * nowhere) to an echo backend in this class; client threads connect, send 64 bytes, read them back and
 * close, as a connection-rate client does, until the time is up. Then everything is closed. Nothing of it
 * is visible: its connections are in no log, metric or live view. Any failure ends the warm-up early and
 * quietly: it may only make the start faster, never stop it.
 */
public final class Warmup {
    private static final int CLIENTS = 2;
    /** --warmup auto: more pairs open at once, as under real load (deeper timer heaps, fuller event batches). */
    private static final int AUTO_CLIENTS = 4;
    /** --warmup auto: private forwards, one after the other (see {@link #run}). */
    private static final int AUTO_ROUNDS = 2;
    private static final int MESSAGE = 64;
    private static final int IO_TIMEOUT_MS = 2000;
    /** Tasks that do nothing, of three classes (see {@link #round}). */
    private static final Runnable[] NOTHING = {() -> {}, () -> {}, () -> {}};

    /**
     * What a warm-up did: the connections it completed, for {@code auto} how it ended (else ""), and how many
     * of its private forwards' connections ended otherwise than closed by the client or the backend (reset,
     * refused, or open at the stop): 0 unless something failed, since each of those ends runs code the real
     * forward's traffic does not and throws compiled code away (see {@link #round}).
     */
    public record Result(int connections, long millis, String how, int endedOtherwise) {}

    /** {@code --warmup auto}: until the JIT has gone quiet ({@link QuietJit}), instead of a fixed time. */
    public static final long AUTO = -1;

    private Warmup() {}

    /** However busy the machine, the warm-up gives up after this long: {@code auto}'s cap, for a fixed time too. */
    private static final long MAX_MILLIS = QuietJit.CAP_MILLIS;
    /** How often the warm-up looks whether it is over. */
    private static final long POLL_MILLIS = 20;

    /**
     * Runs connections through a private forward for about {@code millis} ms, and at least one (a machine
     * so busy that none completes in time would otherwise gain nothing), for at most 10 s; 0 does nothing.
     * {@link #AUTO}: until the JIT's compiler threads have been idle for a while ({@link QuietJit}).
     */
    public static Result run(Kernel kernel, Settings real, long millis) {
        return run(kernel, real, millis, new CompilerCpu());
    }

    static Result run(Kernel kernel, Settings real, long millis, CompilerCpu compiler) {
        return run(kernel, real, millis, compiler::ticks, MAX_MILLIS);
    }

    /** {@link #run}, with the compiler's CPU read from {@code compilerTicks} and a cap of {@code maxMillis}. */
    static Result run(Kernel kernel, Settings real, long millis, LongSupplier compilerTicks, long maxMillis) {
        if (millis == 0 || millis < AUTO) return new Result(0, 0, "", 0);
        long started = System.nanoTime();
        long cap = started + TimeUnit.MILLISECONDS.toNanos(Math.max(millis, maxMillis));
        AtomicInteger done = new AtomicInteger();
        AtomicInteger otherwise = new AtomicInteger();
        String how = "";
        if (millis != AUTO) {
            long deadline = started + TimeUnit.MILLISECONDS.toNanos(millis);
            round(kernel, real, CLIENTS, cap, done, otherwise, now -> (now >= deadline && done.get() > 0) || now >= cap);
        } else {
            // Rounds, each on a new private forward: the first compiles the forwarding path; stopping its
            // forward and starting the next takes the branches a new forward's first moments take (an
            // empty buffer pool, a new loop's first registrations, the wake-up at stop), which the JIT had
            // compiled out; the real forward would otherwise meet them and send those methods back to the
            // interpreter in its first second. Four clients, as many pairs at once as a busy start.
            QuietJit quiet = new QuietJit(started);
            int rounds = 0;
            boolean ok = true;
            while (ok && rounds < AUTO_ROUNDS && !quiet.capped()) {
                quiet.newRound(System.nanoTime());
                AtomicInteger thisRound = new AtomicInteger();
                ok = round(kernel, real, AUTO_CLIENTS, cap, thisRound, otherwise,
                        now -> quiet.over(now, compilerTicks.getAsLong(), thisRound.get()));
                done.addAndGet(thisRound.get());
                rounds++;
            }
            // A round that QuietJit did not end stopped because its clients did: at the cap (they stop there,
            // often before QuietJit is next asked), or failing. QuietJit's last word was then about a quiet
            // spell that never came.
            String why = ok ? quiet.why() : System.nanoTime() >= cap ? QuietJit.AT_CAP : "its connections failing";
            how = rounds + (rounds == 1 ? " round, " : " rounds, ") + why;
        }
        return new Result(done.get(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), how, otherwise.get());
    }

    /**
     * One private forward, {@code clients} threads of connections through it until {@code over} says so
     * (asked every {@link #POLL_MILLIS}) or {@code cap}; then all of it is closed. False when it could not
     * run or every client failed: the warm-up then ends.
     */
    private static boolean round(Kernel kernel, Settings real, int clientCount, long cap, AtomicInteger done,
            AtomicInteger otherwise, LongPredicate over) {
        AtomicBoolean stop = new AtomicBoolean();
        boolean ok = false;
        // One loop suffices for the JIT; the real buffer size, splice and timeouts, so the same code runs;
        // no trace, and no per-client limits, which would refuse a client that connects this often.
        Settings settings = real.toBuilder().threads(1).trace(false).maxConnections(0).maxPerClient(0).clientRate(0, 1).build();
        PrintStream log = LogStreams.discard(); // the classes of the real log's stream: see LogStreams
        ProxyServer proxy = new ProxyServer(kernel, settings, log);
        ExecutorService echoes = Executors.newFixedThreadPool(clientCount, Warmup::daemon);
        List<Thread> clients = new ArrayList<>();
        ServerSocket backend = null;
        try {
            backend = new ServerSocket(0, 64, InetAddress.getLoopbackAddress());
            ServerSocket server = backend;
            Thread acceptor = daemon(() -> echo(server, echoes));
            acceptor.start();
            SockAddr backendAddr = SockAddr.parse("127.0.0.1", backend.getLocalPort());
            List<Forward> bound = proxy.start(List.of(new Forward(SockAddr.parse("127.0.0.1", 0),
                    List.of(new Backend("warm-up", backendAddr, 1)))));
            int port = bound.get(0).bind().port();
            for (int i = 0; i < clientCount; i++) {
                Thread t = daemon(() -> {
                    byte[] out = new byte[MESSAGE], in = new byte[MESSAGE];
                    while (!stop.get() && System.nanoTime() < cap) {
                        if (!cycle(port, out, in)) break;
                        done.incrementAndGet();
                    }
                });
                clients.add(t);
                t.start();
            }
            // This thread decides when it is over; the clients stop at their next connection.
            while (clients.stream().anyMatch(Thread::isAlive)) { // none alive: every client failed, give up
                if (over.test(System.nanoTime())) {
                    ok = true;
                    break;
                }
                // Tasks for the loop now and then, as a real forward gets them (each /metrics scrape, control
                // command and reload posts one): its wake-up and the task queue are then among the branches the
                // JIT compiles in. Without them it compiled the wake-up out, and the wake-up of the stop below
                // threw away the loop's compiled code (an uncommon trap in EventLoop.dispatch) just before the
                // real forward started, which then ran it in the interpreter and recompiled in its first second.
                // Three at once, of three classes: a real loop runs tasks of many classes, and a call the JIT saw
                // reach one class it compiles for that class alone; and several queued at once take a branch of
                // the queue's poll that one at a time never takes (met late in a round, it threw runOnce away).
                for (EventLoop loop : proxy.loops()) {
                    for (Runnable nothing : NOTHING) loop.execute(nothing);
                }
                Thread.sleep(POLL_MILLIS);
            }
        } catch (IOException | RuntimeException e) {
            ok = false; // a machine without loopback, or no port to bind: start as before, only slower at first
        } catch (InterruptedException e) {
            ok = false;
            Thread.currentThread().interrupt();
        } finally {
            // In this order: the clients stop, the proxy's ends of their last connections close the ordinary way
            // (a client is done once it read its echo, the proxy a moment later), the proxy stops, and only then
            // the backend closes. A backend closed first refused the clients still running and reset the
            // connections in its accept queue, and a stop resets what is still open: all of it took paths the
            // warm-up's traffic never took (an error read, the end reasons "backend-refused", "backend-reset",
            // "shutdown"), whose uncommon traps threw the compiled Pair and EventLoop code away just before the
            // real forward started, which then ran it in the interpreter and recompiled it in its first second.
            stop.set(true);
            boolean interrupted = false;
            int otherEnds = 0;
            try {
                for (Thread t : clients) t.join(5L * IO_TIMEOUT_MS);
                long settled = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(IO_TIMEOUT_MS);
                while (proxy.openConnections() > 0 && System.nanoTime() < settled) Thread.sleep(1);
                otherEnds = endedOtherwise(proxy);
            } catch (InterruptedException e) {
                interrupted = true;
            }
            try {
                proxy.stop(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                interrupted = true;
            }
            otherwise.addAndGet(proxy.resetAtShutdown() + otherEnds);
            if (backend != null) {
                try {
                    backend.close();
                } catch (IOException e) {
                    // nothing to do: it was only ever ours
                }
            }
            echoes.shutdownNow();
            log.close();
            if (interrupted) Thread.currentThread().interrupt();
        }
        return ok;
    }

    /** The connections of {@code proxy}'s loops that ended otherwise than closed by one side; read on each loop. */
    private static int endedOtherwise(ProxyServer proxy) throws InterruptedException {
        AtomicLong n = new AtomicLong();
        CountDownLatch read = new CountDownLatch(proxy.loops().size());
        proxy.onEachLoop((i, fl) -> {
            for (ForwardStats st : fl.forwardStats()) {
                long[] ends = st.ends;
                for (int r = 0; r < ends.length; r++) {
                    if (r != EndReason.CLIENT_CLOSED.ordinal() && r != EndReason.BACKEND_CLOSED.ordinal()) n.addAndGet(ends[r]);
                }
            }
            read.countDown();
        });
        read.await(IO_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        return (int) n.get();
    }

    /** connect, 64 bytes there, 64 back, close; false on any error or a wrong reply. */
    private static boolean cycle(int port, byte[] out, byte[] in) {
        try (Socket s = new Socket()) {
            s.setSoTimeout(IO_TIMEOUT_MS);
            s.setTcpNoDelay(true);
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), IO_TIMEOUT_MS);
            s.getOutputStream().write(out);
            return readFully(s.getInputStream(), in);
        } catch (IOException e) {
            return false;
        }
    }

    private static void echo(ServerSocket server, ExecutorService workers) {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                workers.execute(() -> {
                    try (s) {
                        s.setSoTimeout(IO_TIMEOUT_MS);
                        byte[] b = new byte[MESSAGE];
                        if (readFully(s.getInputStream(), b)) s.getOutputStream().write(b);
                    } catch (IOException e) {
                        // the client went away: its cycle fails and the warm-up ends
                    }
                });
            } catch (IOException | RejectedExecutionException e) {
                return; // closed at the end of the warm-up
            }
        }
    }

    private static boolean readFully(InputStream in, byte[] b) throws IOException {
        for (int got = 0, n; got < b.length; got += n) {
            n = in.read(b, got, b.length - got);
            if (n < 0) return false;
        }
        return true;
    }

    private static Thread daemon(Runnable r) {
        Thread t = new Thread(r, "warm-up");
        t.setDaemon(true);
        return t;
    }
}
