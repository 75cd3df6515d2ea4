package org.epollproxy.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.Kernel;

/**
 * {@code --pipe-size} is checked once at start on a real pipe, so a size this kernel refuses for this
 * user is an error naming the limit, not a silent 64 KiB pipe on every connection.
 */
final class PipeSizeCheck {
    static final Path PIPE_MAX_SIZE = Path.of("/proc/sys/fs/pipe-max-size");

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
                        + sysctl(PIPE_MAX_SIZE) + " here)";
            }
            return "--pipe-size " + size + ": the kernel refused it: " + Errno.describe(rc) + limit;
        } finally {
            k.close(read);
            k.close(write);
        }
    }

    /**
     * A sysctl file's value, or "unknown". One read into a buffer large enough for it: a sysctl file
     * answers only a read from offset 0, and {@code Files.readString} reads one byte first (the file's size
     * is 0), so its second read, at offset 1, found nothing and the limit came out as "1".
     */
    static String sysctl(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] value = new byte[64];
            int n = in.read(value);
            return n <= 0 ? "unknown" : new String(value, 0, n, StandardCharsets.US_ASCII).trim();
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }
}
