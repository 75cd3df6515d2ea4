package org.epollproxy.shim;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.Map;
import com.kenai.jffi.Library;

/**
 * Loads the C shim (libepollshim.so) and binds it to {@link Kernel} through jffi ({@link JffiKernel}).
 *
 * <p>The library travels inside the jar at {@code native/linux-<os.arch>/libepollshim.so}; it is
 * copied to a private temporary directory, loaded by absolute path and deleted (the mapping stays).
 * The system property {@code epollproxy.shim} names a library file to use instead; bin/epoll-proxy
 * sets it to the copy {@code packaging/native-libs.sh} put next to the jar, so a start extracts nothing.
 *
 * <p>The library is opened with {@code RTLD_NOW} and every symbol is looked up at once, so a missing file
 * or symbol fails here, at start, naming it, not at the first call in the middle of forwarding.
 */
public final class Shim {
    public static final String PATH_PROPERTY = "epollproxy.shim";
    private static final String LIB = "libepollshim.so";

    private static volatile Kernel loaded;

    /** The process-wide binding; loaded on first use. Throws {@link ShimLoadException} with the reason. */
    public static Kernel load() {
        Kernel k = loaded;
        if (k != null) return k;
        synchronized (Shim.class) {
            if (loaded == null) loaded = open();
            return loaded;
        }
    }

    /** The binding if it was loaded already, else null (never loads). */
    static Kernel loadedOrNull() {
        return loaded;
    }

    /** Binds a library file without touching the process-wide binding; for tests of the failure path. */
    static Kernel bindForTest(Path lib) {
        return bind(lib);
    }

    private static Kernel bind(Path lib) {
        try {
            Library opened = Library.openLibrary(lib.toAbsolutePath().toString(), Library.NOW | Library.LOCAL);
            if (opened == null) throw new IllegalStateException(Library.getLastError());
            return new JffiKernel(opened);
        } catch (LinkageError | RuntimeException e) {
            throw new ShimLoadException("cannot load the epoll shim from " + lib + ": " + e.getMessage(), e);
        }
    }

    private static Kernel open() {
        String override = System.getProperty(PATH_PROPERTY);
        if (override != null && !override.isEmpty()) {
            Path p = Path.of(override);
            if (!Files.isReadable(p)) throw new ShimLoadException(PATH_PROPERTY + "=" + override + ": no such readable file");
            return bind(p);
        }
        String resource = resourcePath();
        try (InputStream in = Shim.class.getResourceAsStream("/" + resource)) {
            if (in == null) {
                throw new ShimLoadException("the epoll shim " + resource + " is not in the jar or class path"
                        + " (was the project built with `mvn package` on " + platform() + "?)");
            }
            Path dir = Files.createTempDirectory("epoll-proxy-");
            Path lib = dir.resolve(LIB);
            Files.copy(in, lib, StandardCopyOption.REPLACE_EXISTING);
            try {
                return bind(lib);
            } finally {
                // The mapping outlives the file; removing it now leaves nothing behind in /tmp.
                Files.deleteIfExists(lib);
                Files.deleteIfExists(dir);
            }
        } catch (IOException e) {
            throw new ShimLoadException("cannot extract the epoll shim to a temporary directory ("
                    + System.getProperty("java.io.tmpdir") + "): " + e.getMessage()
                    + "; set -Djava.io.tmpdir to a writable, exec-allowed directory or -D" + PATH_PROPERTY, e);
        }
    }

    /** {@code native/linux-amd64/libepollshim.so}; fails clearly off Linux x86-64/aarch64. */
    static String resourcePath() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        arch = Map.of("x86_64", "amd64", "arm64", "aarch64").getOrDefault(arch, arch);
        if (!os.equals("linux") || !(arch.equals("amd64") || arch.equals("aarch64"))) {
            throw new ShimLoadException("epoll-proxy runs on Linux x86-64 or aarch64 only; this is " + platform());
        }
        return "native/linux-" + arch + "/" + LIB;
    }

    private static String platform() {
        return System.getProperty("os.name") + " " + System.getProperty("os.arch");
    }

    /** Why the shim could not be loaded; the CLI prints the message and exits 1. */
    public static final class ShimLoadException extends RuntimeException {
        ShimLoadException(String message) {
            super(message);
        }

        ShimLoadException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private Shim() {}
}
