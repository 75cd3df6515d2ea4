package org.epollproxy.bench.jffi;

import com.kenai.jffi.CallContext;
import com.kenai.jffi.CallingConvention;
import com.kenai.jffi.Invoker;
import com.kenai.jffi.Library;
import com.kenai.jffi.Type;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The shim's functions called through jffi directly, the layer under jnr-ffi, written out by hand: one
 * function address and one call context per C signature, for the benchmarks only. The proxy binds the
 * shim through jnr-ffi's interface mapping ({@link org.epollproxy.shim.Kernel}); this is the row that
 * shows what that mapping costs per call, next to plain JNI ({@code bench.jni.JniShim}).
 *
 * <p>An {@code int} result comes back in a 64-bit register whose upper half C leaves undefined, hence the
 * {@code (int)} on every call.
 */
public final class JffiShim {
    private static final Invoker CALL = Invoker.getInstance();
    private static final Type I = Type.SINT32;
    private static final Type L = Type.SINT64;
    private static final CallContext RET_I = context(I);
    private static final CallContext ILI_RET_I = context(I, I, L, I);
    private static final CallContext ILII_RET_I = context(I, I, L, I, I);
    private static final CallContext IIIIL_RET_I = context(I, I, I, I, I, L);

    private static final Library LIB = open();
    private static final long SIZEOF_ADDR = symbol("shim_sizeof_addr");
    private static final long RECV = symbol("shim_recv");
    private static final long SEND = symbol("shim_send");
    private static final long EPOLL_WAIT = symbol("shim_epoll_wait");
    private static final long EPOLL_CTL = symbol("shim_epoll_ctl");

    /** No syscall: the bare cost of a jffi call. */
    public static int noop() {
        return (int) CALL.invokeN0(RET_I, SIZEOF_ADDR);
    }

    public static int recv(int fd, long buf, int len) {
        return (int) CALL.invokeN3(ILI_RET_I, RECV, fd, buf, len);
    }

    public static int send(int fd, long buf, int len) {
        return (int) CALL.invokeN3(ILI_RET_I, SEND, fd, buf, len);
    }

    public static int epollWait(int epfd, long out, int max, int timeoutMs) {
        return (int) CALL.invokeN4(ILII_RET_I, EPOLL_WAIT, epfd, out, max, timeoutMs);
    }

    public static int epollCtl(int epfd, int op, int fd, int events, long token) {
        return (int) CALL.invokeN5(IIIIL_RET_I, EPOLL_CTL, epfd, op, fd, events, token);
    }

    private static CallContext context(Type result, Type... params) {
        return CallContext.getCallContext(result, params, CallingConvention.DEFAULT, false);
    }

    private static long symbol(String name) {
        long address = LIB.getSymbolAddress(name);
        if (address == 0) throw new IllegalStateException("the shim has no function " + name);
        return address;
    }

    /** The shim rides in the proxy's jar; dlopen needs a file, so copy it out (the mapping outlives it). */
    private static Library open() {
        String arch = System.getProperty("os.arch").equals("x86_64") ? "amd64" : System.getProperty("os.arch");
        String resource = "/native/linux-" + arch + "/libepollshim.so";
        try (InputStream in = JffiShim.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException(resource + " is not on the class path; build java/ with Maven");
            Path dir = Files.createTempDirectory("epoll-proxy-bench-");
            Path lib = dir.resolve("libepollshim.so");
            Files.copy(in, lib);
            try {
                Library opened = Library.openLibrary(lib.toString(), Library.NOW | Library.LOCAL);
                if (opened == null) throw new IllegalStateException(Library.getLastError());
                return opened;
            } finally {
                Files.deleteIfExists(lib);
                Files.deleteIfExists(dir);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract " + resource, e);
        }
    }

    private JffiShim() {}
}
