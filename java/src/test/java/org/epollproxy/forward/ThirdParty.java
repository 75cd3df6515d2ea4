package org.epollproxy.forward;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.util.concurrent.TimeUnit;

/**
 * Real third-party servers and tools for the tests (haproxy, redis, systemd-analyze, PyYAML): bin/setup
 * installs them; a test never does. One that is missing skips the test with a message saying what to
 * install, except in CI ({@code CI=true} in the environment), where it fails the test: CI that silently
 * skips the tests that meet real servers would pass without testing them.
 */
public final class ThirdParty {

    /** The path of {@code program} (on the PATH, or in /usr/sbin, /usr/bin), which Debian's {@code pkg} installs. */
    public static String require(String program, String pkg) {
        String found = find(program);
        if (found == null) missing(program, pkg);
        return found;
    }

    /** {@code what} is not there: fails in CI, else skips the test; says which Debian package brings it. */
    public static void missing(String what, String pkg) {
        missing(what, pkg, "true".equals(System.getenv("CI")));
    }

    static void missing(String what, String pkg, boolean ci) {
        String why = what + " is not installed (Debian package " + pkg + "; bin/setup installs it)";
        if (ci) throw new AssertionError(why + ": CI=true, so this fails instead of skipping");
        assumeTrue(false, why + ": test skipped");
    }

    private static String find(String program) {
        for (String dir : (System.getenv("PATH") + ":/usr/sbin:/usr/bin").split(":")) {
            File f = new File(dir, program);
            if (f.canExecute()) return f.getPath();
        }
        return null;
    }

    /** Stops a server this test started (by its own Process handle, i.e. its PID). */
    public static void stop(Process p) throws InterruptedException {
        if (p == null) return;
        p.destroy();
        if (!p.waitFor(5, TimeUnit.SECONDS)) p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }

    private ThirdParty() {}
}
