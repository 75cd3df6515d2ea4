package org.epollproxy.shim;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.zip.CRC32;
import java.util.Locale;
import java.util.Map;
import jnr.ffi.LibraryLoader;
import jnr.ffi.LibraryOption;

/**
 * Loads the C shim (libepollshim.so) and binds it to {@link Kernel} through jnr-ffi: the interface is the
 * binding, each method calling the C function {@code shim_<name>}.
 *
 * <p>The library travels inside the jar at {@code native/linux-<os.arch>/libepollshim.so}; it is
 * copied to a private temporary directory, loaded by absolute path and deleted (the mapping stays).
 * The system property {@code epollproxy.shim} names a library file to use instead. bin/epoll-proxy
 * passes {@code epollproxy.native}, the copies {@code packaging/native-libs.sh} put next to the jar,
 * used when identical to the jar's, so a start extracts nothing.
 *
 * <p>Options, each for a reason: {@code IgnoreError} (the shim returns -errno, so jnr-ffi need not save
 * errno after each call and may jump straight into the shim), {@code LoadNow} and
 * {@code failImmediately()} (a missing file or symbol fails here, at start, naming it, not at the
 * first call in the middle of forwarding).
 */
public final class Shim {
    public static final String PATH_PROPERTY = "epollproxy.shim";
    /** A directory with copies of the jar's native libraries, used only if identical ({@link #nativeCopies}). */
    public static final String NATIVE_DIR_PROPERTY = "epollproxy.native";
    private static final String JFFI_BOOT_PATH_PROPERTY = "jffi.boot.library.path";
    private static final String LIB = "libepollshim.so";
    private static final String JFFI_LIB = "libjffi-1.2.so";

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
            requireEverySymbol(lib);
            return LibraryLoader.create(Kernel.class)
                    .option(LibraryOption.IgnoreError, true)
                    .option(LibraryOption.LoadNow, true)
                    .mapper((name, ctx) -> "shim_" + name)
                    .failImmediately()
                    .load(lib.toAbsolutePath().toString());
        } catch (LinkageError | RuntimeException e) {
            throw new ShimLoadException("cannot load the epoll shim from " + lib + ": " + e.getMessage(), e);
        }
    }

    /**
     * jnr-ffi binds each method at its first call, and a missing function would surface then, in the middle
     * of forwarding; so every {@code shim_<method>} is looked up now (jffi's dlsym, the layer under jnr-ffi).
     */
    private static void requireEverySymbol(Path lib) {
        String path = lib.toAbsolutePath().toString();
        com.kenai.jffi.Library opened = com.kenai.jffi.Library.openLibrary(path, com.kenai.jffi.Library.NOW | com.kenai.jffi.Library.LOCAL);
        if (opened == null) throw new IllegalStateException(com.kenai.jffi.Library.getLastError());
        java.util.TreeSet<String> missing = new java.util.TreeSet<>();
        for (java.lang.reflect.Method m : Kernel.class.getMethods()) {
            if (opened.getSymbolAddress("shim_" + m.getName()) == 0) missing.add("shim_" + m.getName());
        }
        if (!missing.isEmpty()) {
            throw new IllegalStateException("the library lacks " + missing.size() + " of the shim's functions: " + String.join(", ", missing));
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
        Path copies = nativeCopies(resource);
        if (copies != null) {
            // jffi reads this when it first loads, which is just below (nothing before the shim uses it)
            System.setProperty(JFFI_BOOT_PATH_PROPERTY, copies.toString());
            return bind(copies.resolve(LIB));
        }
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
                    + "; set -Djava.io.tmpdir to a writable, exec-allowed directory, or run packaging/native-libs.sh"
                    + " and pass its directory as -D" + NATIVE_DIR_PROPERTY, e);
        }
    }

    /**
     * The directory {@code -Depollproxy.native} names (bin/epoll-proxy passes the one
     * packaging/native-libs.sh made next to the jar) if it holds copies of this jar's
     * shim and of jffi's library (same size and CRC-32 as the jar's entries), else null. A time stamp
     * would trust libraries of another build after an install that keeps times, and the shim is bound
     * by name only, so another build's could be called with the wrong arguments.
     */
    static Path nativeCopies(String shimResource) {
        String dir = System.getProperty(NATIVE_DIR_PROPERTY);
        if (dir == null || dir.isEmpty()) return null;
        String jffiResource = "jni/" + (shimResource.contains("amd64") ? "x86_64" : "aarch64") + "-Linux/" + JFFI_LIB;
        Path d = Path.of(dir);
        return sameAsResources(d, shimResource, jffiResource) ? d : null;
    }

    /** Each resource has a file of the same name in {@code dir} with the same bytes (in a jar: size and CRC-32). */
    private static boolean sameAsResources(Path dir, String... resources) {
        java.net.URL first = Shim.class.getResource("/" + resources[0]);
        if (first == null) return false;
        try {
            java.net.URLConnection c = first.openConnection();
            if (c instanceof java.net.JarURLConnection) {
                // The jar's directory records each entry's size and CRC-32: nothing to inflate, the jar
                // opened once for all, and each file goes through the CRC in small reads (no heap copy).
                java.net.JarURLConnection jar = (java.net.JarURLConnection) c;
                jar.setUseCaches(false);
                try (java.util.jar.JarFile f = jar.getJarFile()) {
                    for (String r : resources) {
                        java.util.jar.JarEntry entry = f.getJarEntry(r);
                        if (entry == null || !sameSizeAndCrc(dir.resolve(fileName(r)), entry)) return false;
                    }
                }
                return true;
            }
            for (String r : resources) { // classes on a directory path (tests)
                Path file = dir.resolve(fileName(r));
                try (InputStream in = Shim.class.getResourceAsStream("/" + r)) {
                    if (in == null || !Files.isRegularFile(file) || !Arrays.equals(in.readAllBytes(), Files.readAllBytes(file))) return false;
                }
            }
            return true;
        } catch (IOException e) {
            return false; // unreadable: the jar's copies are extracted instead
        }
    }

    private static boolean sameSizeAndCrc(Path file, java.util.jar.JarEntry entry) throws IOException {
        if (!Files.isRegularFile(file) || Files.size(file) != entry.getSize()) return false;
        CRC32 sum = new CRC32();
        byte[] chunk = new byte[8192];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(chunk)) > 0; ) sum.update(chunk, 0, n);
        }
        return sum.getValue() == entry.getCrc();
    }

    private static String fileName(String resource) {
        return resource.substring(resource.lastIndexOf('/') + 1);
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
