package org.epollproxy.cli;

import sun.misc.Signal;

/**
 * POSIX signals through {@code sun.misc.Signal} (jdk.unsupported, present on every JDK we run on).
 * With a handler installed, SIGTERM/SIGINT end the JVM with our exit status (0) instead of 143/130.
 */
final class Signals {

    static void onTerminate(Runnable action) {
        handle("TERM", action);
        handle("INT", action);
    }

    /** SIGTERM (drain, see Main) and SIGINT (stop now) apart. */
    static void on(String name, Runnable action) {
        handle(name, action);
    }

    static void onHangup(Runnable action) {
        handle("HUP", action);
    }

    private static void handle(String name, Runnable action) {
        try {
            Signal.handle(new Signal(name), s -> action.run());
        } catch (IllegalArgumentException e) {
            // The signal is reserved or ignored by the JVM (e.g. INT under `nohup`): nothing to install.
        }
    }

    private Signals() {}
}
