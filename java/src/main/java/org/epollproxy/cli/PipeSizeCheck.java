package org.epollproxy.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.Kernel;

/**
 * {@code --pipe-size} is checked once at start on a real pipe, so a size this kernel refuses for this
 * user is an error naming the limit, not a silent 64 KiB pipe on every connection.
 */
final class PipeSizeCheck {
    private PipeSizeCheck() {}

    /** Why {@code size} cannot be set on a pipe here, or null if it can. */
    static String problem(Kernel k, int size) {
        long fds = k.pipe2();
        if (fds < 0) return "--pipe-size: cannot open a pipe to check it: " + Errno.describe((int) fds);
        int read = (int) (fds >>> 32);
        int write = (int) fds;
        try {
            int rc = k.set_pipe_size(write, size);
            if (rc >= 0) return null;
            String limit = "";
            if (rc == -Errno.EPERM) {
                limit = "; without CAP_SYS_RESOURCE a pipe may hold at most /proc/sys/fs/pipe-max-size bytes ("
                        + maxSize() + " here)";
            }
            return "--pipe-size " + size + ": the kernel refused it: " + Errno.describe(rc) + limit;
        } finally {
            k.close(read);
            k.close(write);
        }
    }

    private static String maxSize() {
        try {
            return Files.readString(Path.of("/proc/sys/fs/pipe-max-size")).trim();
        } catch (Exception e) {
            return "unknown";
        }
    }
}
