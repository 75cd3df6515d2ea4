package org.epollproxy.bench.jni;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Plain JNI entry points over the same C shim functions that jffi calls for the proxy, for the
 * benchmarks only (bench/native/jni_shim.c). Same arguments, same -errno results as
 * {@link org.epollproxy.shim.Kernel}: only the binding differs.
 */
public final class JniShim {
    private static final String LIB = "libbenchjni.so";

    static {
        load();
    }

    /** No syscall: the bare cost of a JNI call. */
    public static native int noop();

    public static native int recv(int fd, long buf, int len);

    public static native int send(int fd, long buf, int len);

    public static native int epollWait(int epfd, long out, int max, int timeoutMs);

    public static native int epollCtl(int epfd, int op, int fd, int events, long token);

    /** The library rides in the jar next to the classes; System.load needs a file, so copy it out. */
    private static void load() {
        String arch = System.getProperty("os.arch").equals("x86_64") ? "amd64" : System.getProperty("os.arch");
        String resource = "/native/linux-" + arch + "/" + LIB;
        try (InputStream in = JniShim.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException(resource + " is not on the class path; build bench/ with Maven");
            Path dir = Files.createTempDirectory("epoll-proxy-bench-");
            Path lib = dir.resolve(LIB);
            Files.copy(in, lib);
            try {
                System.load(lib.toAbsolutePath().toString());
            } finally {
                Files.deleteIfExists(lib); // the mapping outlives the file
                Files.deleteIfExists(dir);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract " + resource, e);
        }
    }

    private JniShim() {}
}
