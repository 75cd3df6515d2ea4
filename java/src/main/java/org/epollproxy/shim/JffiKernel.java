package org.epollproxy.shim;

import com.kenai.jffi.CallContext;
import com.kenai.jffi.CallingConvention;
import com.kenai.jffi.Invoker;
import com.kenai.jffi.Library;
import com.kenai.jffi.MemoryIO;
import com.kenai.jffi.Type;
import java.nio.charset.StandardCharsets;

/**
 * {@link Kernel} bound to the C shim through jffi, the native-call layer under jnr-ffi, written out by
 * hand: one function address per method and one call context per C signature.
 *
 * <p>Why not jnr-ffi's {@code LibraryLoader}: it builds the same calls at start by generating classes
 * with ASM (about 300 classes of jnr-ffi, ASM and x86asm, and 0.06 s of every start,
 * {@code bench/jvm-floor.sh}). Every shim function takes and returns only C {@code int} and
 * {@code long long} (memory travels as an address), so jffi's numeric invoker covers all of them: on
 * x86-64 it calls the function pointer directly, without libffi ({@code CALL_CTX_FAST_LONG}); elsewhere
 * libffi converts by the declared types. No call saves errno (the shim returns {@code -errno}).
 *
 * <p>An {@code int} result comes back in a 64-bit register whose upper half C leaves undefined, hence
 * the {@code (int)} on every such call.
 */
final class JffiKernel implements Kernel {
    private static final Invoker CALL = Invoker.getInstance();
    private static final Type I = Type.SINT32;
    private static final Type L = Type.SINT64;

    private static final CallContext RET_I = context(I);
    private static final CallContext RET_L = context(L);
    private static final CallContext I_RET_I = context(I, I);
    private static final CallContext II_RET_I = context(I, I, I);
    private static final CallContext III_RET_I = context(I, I, I, I);
    private static final CallContext IIII_RET_I = context(I, I, I, I, I);
    private static final CallContext IIIIL_RET_I = context(I, I, I, I, I, L);
    private static final CallContext IL_RET_I = context(I, I, L);
    private static final CallContext LI_RET_I = context(I, L, I);
    private static final CallContext ILI_RET_I = context(I, I, L, I);
    private static final CallContext ILII_RET_I = context(I, I, L, I, I);
    private static final CallContext ILIL_RET_I = context(I, I, L, I, L);
    private static final CallContext P_RET_L = context(L, Type.POINTER);

    /** Held so the library is never unloaded while its functions are bound (jffi closes it when collected). */
    private final Library lib;

    private final long epollCreate, epollCtl, epollWait, sizeofEpollEvent;
    private final long setNonblocking, getFdFlags, close, dup, open, eventfd, eventfdWrite, eventfdRead;
    private final long pipe2, splice, setPipeSize, pipeSize, read, write, mallocTrim;
    private final long sizeofAddr, socket, setsockoptInt, getsockoptInt, setLinger, sockError;
    private final long bind, listen, accept, connect, getsockname, getpeername;
    private final long recv, send, recvfrom, sendto, shutdown;
    private final long getuid, gettid, peerUid, setCloexec, sendFd, recvFd, strerror, constant;

    /** Binds every function now; a missing symbol fails here, at start, naming it. */
    JffiKernel(Library lib) {
        this.lib = lib;
        epollCreate = symbol("epoll_create");
        epollCtl = symbol("epoll_ctl");
        epollWait = symbol("epoll_wait");
        sizeofEpollEvent = symbol("sizeof_epoll_event");
        setNonblocking = symbol("set_nonblocking");
        getFdFlags = symbol("get_fd_flags");
        close = symbol("close");
        dup = symbol("dup");
        open = symbol("open");
        eventfd = symbol("eventfd");
        eventfdWrite = symbol("eventfd_write");
        eventfdRead = symbol("eventfd_read");
        pipe2 = symbol("pipe2");
        splice = symbol("splice");
        setPipeSize = symbol("set_pipe_size");
        pipeSize = symbol("pipe_size");
        read = symbol("read");
        write = symbol("write");
        mallocTrim = symbol("malloc_trim");
        sizeofAddr = symbol("sizeof_addr");
        socket = symbol("socket");
        setsockoptInt = symbol("setsockopt_int");
        getsockoptInt = symbol("getsockopt_int");
        setLinger = symbol("set_linger");
        sockError = symbol("sock_error");
        bind = symbol("bind");
        listen = symbol("listen");
        accept = symbol("accept");
        connect = symbol("connect");
        getsockname = symbol("getsockname");
        getpeername = symbol("getpeername");
        recv = symbol("recv");
        send = symbol("send");
        recvfrom = symbol("recvfrom");
        sendto = symbol("sendto");
        shutdown = symbol("shutdown");
        getuid = symbol("getuid");
        gettid = symbol("gettid");
        peerUid = symbol("peer_uid");
        setCloexec = symbol("set_cloexec");
        sendFd = symbol("send_fd");
        recvFd = symbol("recv_fd");
        strerror = symbol("strerror");
        constant = symbol("constant");
    }

    private long symbol(String name) {
        long address = lib.getSymbolAddress("shim_" + name);
        if (address == 0) throw new IllegalStateException("no symbol shim_" + name + " in the library");
        return address;
    }

    private static CallContext context(Type result, Type... params) {
        return CallContext.getCallContext(result, params, CallingConvention.DEFAULT, false);
    }

    // ---- epoll ----

    @Override
    public int epoll_create() {
        return (int) CALL.invokeN0(RET_I, epollCreate);
    }

    @Override
    public int epoll_ctl(int epfd, int op, int fd, int events, long token) {
        return (int) CALL.invokeN5(IIIIL_RET_I, epollCtl, epfd, op, fd, events, token);
    }

    @Override
    public int epoll_wait(int epfd, long out, int max, int timeoutMs) {
        return (int) CALL.invokeN4(ILII_RET_I, epollWait, epfd, out, max, timeoutMs);
    }

    @Override
    public int sizeof_epoll_event() {
        return (int) CALL.invokeN0(RET_I, sizeofEpollEvent);
    }

    // ---- file descriptors ----

    @Override
    public int set_nonblocking(int fd) {
        return (int) CALL.invokeN1(I_RET_I, setNonblocking, fd);
    }

    @Override
    public int get_fd_flags(int fd) {
        return (int) CALL.invokeN1(I_RET_I, getFdFlags, fd);
    }

    @Override
    public int close(int fd) {
        return (int) CALL.invokeN1(I_RET_I, close, fd);
    }

    @Override
    public int dup(int fd) {
        return (int) CALL.invokeN1(I_RET_I, dup, fd);
    }

    @Override
    public int open(long path, int flags) {
        return (int) CALL.invokeN2(LI_RET_I, open, path, flags);
    }

    @Override
    public int eventfd() {
        return (int) CALL.invokeN0(RET_I, eventfd);
    }

    @Override
    public int eventfd_write(int fd) {
        return (int) CALL.invokeN1(I_RET_I, eventfdWrite, fd);
    }

    @Override
    public int eventfd_read(int fd) {
        return (int) CALL.invokeN1(I_RET_I, eventfdRead, fd);
    }

    @Override
    public long pipe2() {
        return CALL.invokeN0(RET_L, pipe2);
    }

    @Override
    public int splice(int fdIn, int fdOut, int len, int flags) {
        return (int) CALL.invokeN4(IIII_RET_I, splice, fdIn, fdOut, len, flags);
    }

    @Override
    public int set_pipe_size(int fd, int size) {
        return (int) CALL.invokeN2(II_RET_I, setPipeSize, fd, size);
    }

    @Override
    public int pipe_size(int fd) {
        return (int) CALL.invokeN1(I_RET_I, pipeSize, fd);
    }

    @Override
    public int read(int fd, long buf, int len) {
        return (int) CALL.invokeN3(ILI_RET_I, read, fd, buf, len);
    }

    @Override
    public int write(int fd, long buf, int len) {
        return (int) CALL.invokeN3(ILI_RET_I, write, fd, buf, len);
    }

    // ---- memory ----

    @Override
    public int malloc_trim(int pad) {
        return (int) CALL.invokeN1(I_RET_I, mallocTrim, pad);
    }

    // ---- sockets ----

    @Override
    public int sizeof_addr() {
        return (int) CALL.invokeN0(RET_I, sizeofAddr);
    }

    @Override
    public int socket(int domain, int type, int protocol) {
        return (int) CALL.invokeN3(III_RET_I, socket, domain, type, protocol);
    }

    @Override
    public int setsockopt_int(int fd, int level, int name, int value) {
        return (int) CALL.invokeN4(IIII_RET_I, setsockoptInt, fd, level, name, value);
    }

    @Override
    public int getsockopt_int(int fd, int level, int name) {
        return (int) CALL.invokeN3(III_RET_I, getsockoptInt, fd, level, name);
    }

    @Override
    public int set_linger(int fd, int onoff, int seconds) {
        return (int) CALL.invokeN3(III_RET_I, setLinger, fd, onoff, seconds);
    }

    @Override
    public int sock_error(int fd) {
        return (int) CALL.invokeN1(I_RET_I, sockError, fd);
    }

    @Override
    public int bind(int fd, long addr) {
        return (int) CALL.invokeN2(IL_RET_I, bind, fd, addr);
    }

    @Override
    public int listen(int fd, int backlog) {
        return (int) CALL.invokeN2(II_RET_I, listen, fd, backlog);
    }

    @Override
    public int accept(int fd, long outAddr) {
        return (int) CALL.invokeN2(IL_RET_I, accept, fd, outAddr);
    }

    @Override
    public int connect(int fd, long addr) {
        return (int) CALL.invokeN2(IL_RET_I, connect, fd, addr);
    }

    @Override
    public int getsockname(int fd, long outAddr) {
        return (int) CALL.invokeN2(IL_RET_I, getsockname, fd, outAddr);
    }

    @Override
    public int getpeername(int fd, long outAddr) {
        return (int) CALL.invokeN2(IL_RET_I, getpeername, fd, outAddr);
    }

    @Override
    public int recv(int fd, long buf, int len) {
        return (int) CALL.invokeN3(ILI_RET_I, recv, fd, buf, len);
    }

    @Override
    public int send(int fd, long buf, int len) {
        return (int) CALL.invokeN3(ILI_RET_I, send, fd, buf, len);
    }

    @Override
    public int recvfrom(int fd, long buf, int len, long outAddr) {
        return (int) CALL.invokeN4(ILIL_RET_I, recvfrom, fd, buf, len, outAddr);
    }

    @Override
    public int sendto(int fd, long buf, int len, long addr) {
        return (int) CALL.invokeN4(ILIL_RET_I, sendto, fd, buf, len, addr);
    }

    @Override
    public int shutdown(int fd, int how) {
        return (int) CALL.invokeN2(II_RET_I, shutdown, fd, how);
    }

    // ---- the takeover control socket and passing fds ----

    @Override
    public int getuid() {
        return (int) CALL.invokeN0(RET_I, getuid);
    }

    @Override
    public int gettid() {
        return (int) CALL.invokeN0(RET_I, gettid);
    }

    @Override
    public int peer_uid(int fd) {
        return (int) CALL.invokeN1(I_RET_I, peerUid, fd);
    }

    @Override
    public int set_cloexec(int fd) {
        return (int) CALL.invokeN1(I_RET_I, setCloexec, fd);
    }

    @Override
    public int send_fd(int sock, long buf, int len, int passFd) {
        return (int) CALL.invokeN4(ILII_RET_I, sendFd, sock, buf, len, passFd);
    }

    @Override
    public int recv_fd(int sock, long buf, int len, long outFd) {
        return (int) CALL.invokeN4(ILIL_RET_I, recvFd, sock, buf, len, outFd);
    }

    // ---- errors and constants ----

    @Override
    public int strerror(int err, long buf, int len) {
        return (int) CALL.invokeN3(ILI_RET_I, strerror, err, buf, len);
    }

    /** The name goes over as a NUL-terminated copy in C memory, freed after the call (start-up only). */
    @Override
    public long constant(String name) {
        byte[] ascii = name.getBytes(StandardCharsets.US_ASCII);
        MemoryIO mem = MemoryIO.getInstance();
        long cString = mem.allocateMemory(ascii.length + 1, true);
        if (cString == 0) throw new OutOfMemoryError("no C memory for a " + (ascii.length + 1) + "-byte string");
        try {
            mem.putByteArray(cString, ascii, 0, ascii.length);
            return CALL.invokeN1(P_RET_L, constant, cString);
        } finally {
            mem.freeMemory(cString);
        }
    }
}
