package org.epollproxy.cli;

import java.io.PrintStream;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.epollproxy.runtime.ControlServer;
import org.epollproxy.runtime.ProxyServer;
import org.epollproxy.stats.StatsServer;

/**
 * The two ways to end: {@link #drain} (SIGTERM, or a successor took the sockets over) and {@link #stop}
 * (SIGINT, a second SIGTERM, or --drain-timeout 0). Both end with exit status 0.
 */
final class Shutdown {
    private final ProxyServer proxy;
    private final Logs logs;
    private final StatsServer stats;
    private final int drainTimeoutSec;
    private final PrintStream err;
    private volatile long drainStart;
    /** The "drain: began" line is out (and a "stopping now" held for it): the loops may end before the signal thread writes it. */
    private final CountDownLatch announced = new CountDownLatch(1);
    /**
     * Keeps "stopping now" after "began": a stop that comes before "began" is out leaves its line here for the
     * drain thread to write right after. A timed wait for "began" was not enough on a loaded machine: the drain
     * thread, starved past the wait, wrote "began" after "stopping now".
     */
    private final Object order = new Object();
    private boolean beganSaid; // guarded by order
    private String stopLineAfterBegan; // guarded by order
    private final ControlServer control;
    /** Serialises drain() against a second signal: of two at once, the one that finds the drain begun stops. */
    private final Object lines = new Object();
    /** systemd passed the listening sockets and keeps them (socket activation). */
    private volatile boolean listenersHeldElsewhere;

    Shutdown(ProxyServer proxy, Logs logs, StatsServer stats, int drainTimeoutSec, PrintStream err, ControlServer control) {
        this.control = control;
        this.proxy = proxy;
        this.logs = logs;
        this.stats = stats;
        this.drainTimeoutSec = drainTimeoutSec;
        this.err = err;
    }

    /** The listening sockets came from systemd (LISTEN_FDS), which keeps them open for the next start. */
    void listenersHeldElsewhere() {
        listenersHeldElsewhere = true;
    }

    private void say(String msg) {
        err.println(org.epollproxy.forward.LogTime.now() + " " + msg);
        err.flush();
    }

    /**
     * Listeners close now, open connections finish, what is left after --drain-timeout is reset; then the
     * loops end and main returns 0. /healthz says 503 draining meanwhile. If a loop hangs, {@link #stop}
     * runs 2 s after the deadline (and it halts the JVM 2 s later if that does not help either).
     */
    void drain(String why) {
        long t0 = System.nanoTime();
        int open;
        synchronized (lines) { // a second signal that sees no drain yet is the second: it stops
            // After a takeover the successor accepts from the same sockets, and under socket activation systemd
            // keeps them for the next start: their backlogs are not this process's to empty.
            open = proxy.drain(drainTimeoutSec * 1000L, !why.equals("takeover") && !listenersHeldElsewhere);
            if (open < 0) { // a drain had begun: a second signal stops now; a takeover meanwhile changes nothing
                if (!why.equals("takeover")) stop();
                return;
            }
            drainStart = t0;
            if (control != null) control.closeLater();
        }
        // drain() may run on a loop's thread (a takeover): the line waits for the loops on a thread of its own.
        Thread t = new Thread(() -> {
            try {
                proxy.awaitDrainBegun(2, TimeUnit.SECONDS);
                say("drain: began (" + why + "); " + open + " connection(s) open, " + proxy.udpSessionsEndedByDrain()
                        + " UDP session(s) ended; those left in " + drainTimeoutSec + " s are reset; SIGINT or another SIGTERM stops now");
                String held;
                synchronized (order) {
                    beganSaid = true;
                    held = stopLineAfterBegan;
                }
                if (held != null) say(held);
                announced.countDown();
                if (!proxy.awaitStopped(drainTimeoutSec + 2L, TimeUnit.SECONDS)) stop();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "epoll-proxy-drain");
        t.setDaemon(true);
        t.start();
    }

    /** Stop accepting, reset every connection, exit 0 within 2 s even if a loop hangs. */
    void stop() {
        if (proxy.draining()) { // drain() started the thread that writes "began"
            String line = "drain: stopping now; resetting the " + proxy.openConnections() + " connection(s) left";
            boolean now;
            synchronized (order) {
                now = beganSaid;
                if (!now) stopLineAfterBegan = line; // "began" is not out: the drain thread writes this after it
            }
            if (now) {
                say(line);
            } else {
                try { // usually both lines are out within moments; the order does not depend on it
                    announced.await(3, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        Thread t = new Thread(() -> {
            try {
                if (stats != null) stats.close(); // no more tasks posted to loops that are ending
                if (!proxy.stop(2, TimeUnit.SECONDS)) {
                    err.println("epoll-proxy: loops did not stop within 2 s; exiting anyway");
                    err.flush();
                    logs.close();
                    Runtime.getRuntime().halt(0);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "epoll-proxy-stop");
        t.setDaemon(true);
        t.start();
    }

    /** After the loops ended: the drain's outcome, for the log. */
    void report() {
        if (!proxy.draining()) return;
        try {
            // With nothing open the loops end at once, maybe before drain() wrote its first line.
            announced.await(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        say("drain: done in " + (System.nanoTime() - drainStart) / 1_000_000 + " ms; " + proxy.resetAtShutdown()
                + " connection(s) reset (open at the deadline, or at a second signal)");
    }
}
