package org.epollproxy.forward;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * Real third-party servers for the tests (haproxy, redis-server): found on the PATH or in /usr/sbin, else
 * installed with apt-get (waiting for another installer's lock), else the test is skipped with a message
 * saying why; never silently.
 */
final class ThirdParty {

    /** The path of {@code program}, installing {@code pkg} when it is missing. */
    static String require(String program, String pkg) throws IOException, InterruptedException {
        String found = find(program);
        if (found == null && new File("/usr/bin/apt-get").canExecute()) {
            if (run("apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "-q", pkg) != 0) {
                run("apt-get", "update", "-q");
                run("apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "-q", pkg);
            }
            found = find(program);
        }
        assumeTrue(found != null, program + " is not installed and apt-get could not install " + pkg + ": test skipped");
        return found;
    }

    private static String find(String program) {
        for (String dir : (System.getenv("PATH") + ":/usr/sbin:/usr/bin").split(":")) {
            File f = new File(dir, program);
            if (f.canExecute()) return f.getPath();
        }
        return null;
    }

    private static int run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(15, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }

    /** Stops a server this test started (by its own Process handle, i.e. its PID). */
    static void stop(Process p) throws InterruptedException {
        if (p == null) return;
        p.destroy();
        if (!p.waitFor(5, TimeUnit.SECONDS)) p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }

    private ThirdParty() {}
}
