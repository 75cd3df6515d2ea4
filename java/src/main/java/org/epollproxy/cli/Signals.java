package org.epollproxy.cli;

import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * POSIX signals through {@code sun.misc.Signal} (jdk.unsupported, present on every JDK we run on).
 * With a handler installed, SIGTERM/SIGINT end the JVM with our exit status (0) instead of 143/130.
 */
final class Signals {

    static void onTerminate(Runnable action) {
        handle("TERM", action);
        handle("INT", action);
    }

    /** Whether a handler went in, and if not, what the signal does instead. */
    enum Outcome {
        INSTALLED,
        /**
         * The process was started with the signal ignored (`nohup` does that to SIGHUP, a shell to a background
         * job's SIGINT, a supervisor may to any): the JVM keeps an inherited SIG_IGN of SIGTERM, SIGINT and
         * SIGHUP as it is, so the signal does nothing.
         */
        IGNORED_SINCE_START,
        /** The JVM keeps the signal to itself ({@code -Xrs}): its default action, which ends the process. */
        RESERVED
    }

    /** SIGTERM (drain, see Main) and SIGINT (stop now) apart. */
    static Outcome on(String name, Runnable action) {
        return handle(name, action);
    }

    static Outcome onHangup(Runnable action) {
        return handle("HUP", action);
    }

    private static Outcome handle(String name, Runnable action) {
        try {
            // The JVM answers a signal ignored at its start with SIG_IGN as the "previous" handler and
            // installs nothing.
            return Signal.handle(new Signal(name), s -> action.run()) == SignalHandler.SIG_IGN
                    ? Outcome.IGNORED_SINCE_START : Outcome.INSTALLED;
        } catch (IllegalArgumentException e) {
            return Outcome.RESERVED;
        }
    }

    private Signals() {}
}
