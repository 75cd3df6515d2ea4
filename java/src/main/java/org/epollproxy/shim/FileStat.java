package org.epollproxy.shim;

import com.kenai.jffi.MemoryIO;
import java.nio.charset.StandardCharsets;

/**
 * What {@link Kernel#lstat} and {@link Kernel#fstat} say about one file: the device and inode that
 * identify it, its type and permission bits, its owner. Paths travel to the shim as NUL-terminated
 * strings ({@link #cString}). The values are the Linux ones (ConstantsTest checks them against the headers).
 */
public record FileStat(long dev, long ino, int mode, int uid) {
    /** The shim's layout: int64 st_dev, int64 st_ino, int32 st_mode, int32 st_uid. */
    public static final int SIZE = 24;
    public static final int S_IFMT = 0170000;
    public static final int S_IFSOCK = 0140000;
    public static final int S_IFLNK = 0120000;
    public static final int S_IFREG = 0100000;
    public static final int S_IFDIR = 0040000;
    /** renameat2(2)'s flag: fail with EEXIST rather than replace. */
    public static final int RENAME_NOREPLACE = 1;
    /** renameat2(2)'s flag: swap the two files atomically (both must exist). */
    public static final int RENAME_EXCHANGE = 2;

    public boolean isSocket() {
        return (mode & S_IFMT) == S_IFSOCK;
    }

    public boolean isDirectory() {
        return (mode & S_IFMT) == S_IFDIR;
    }

    /** The same file: same device and inode. */
    public boolean sameFile(FileStat other) {
        return other != null && dev == other.dev && ino == other.ino;
    }

    /** "a socket", "a directory", "a symbolic link"... for messages. */
    public String kind() {
        return switch (mode & S_IFMT) {
            case S_IFSOCK -> "a socket";
            case S_IFLNK -> "a symbolic link";
            case S_IFREG -> "a regular file";
            case S_IFDIR -> "a directory";
            default -> "a special file";
        };
    }

    /** lstat of {@code path}; null if nothing is there (ENOENT), else the failure as a {@link SyscallException}. */
    public static FileStat lstat(Kernel k, String path) {
        NativeBuffer p = cString(path);
        NativeBuffer out = NativeBuffer.allocate(SIZE);
        int rc = k.lstat(p.address(), out.address());
        java.lang.ref.Reference.reachabilityFence(p);
        if (rc == -Errno.ENOENT) return null;
        SyscallException.check(rc, "lstat " + path);
        return read(out);
    }

    /** fstat of {@code fd}, or a {@link SyscallException}. */
    public static FileStat fstat(Kernel k, int fd) {
        NativeBuffer out = NativeBuffer.allocate(SIZE);
        SyscallException.check(k.fstat(fd, out.address()), "fstat fd " + fd);
        return read(out);
    }

    static FileStat read(NativeBuffer b) {
        return new FileStat(b.buffer().getLong(0), b.buffer().getLong(8), b.buffer().getInt(16), b.buffer().getInt(20));
    }

    /** {@code path} as a NUL-terminated UTF-8 string in native memory; keep it reachable through the call. */
    public static NativeBuffer cString(String path) {
        byte[] bytes = path.getBytes(StandardCharsets.UTF_8);
        for (byte b : bytes) if (b == 0) throw new IllegalArgumentException("a path with a NUL byte: " + path.replace('\0', '?'));
        NativeBuffer n = NativeBuffer.allocate(bytes.length + 1);
        n.buffer().put(0, bytes);
        n.buffer().put(bytes.length, (byte) 0);
        return n;
    }

    /** The NUL-terminated string at {@code address} (at most 4096 bytes), for --trace. */
    static String readCString(long address) {
        MemoryIO mem = MemoryIO.getInstance();
        int n = 0;
        while (n < 4096 && mem.getByte(address + n) != 0) n++;
        byte[] b = new byte[n];
        mem.getByteArray(address, b, 0, n);
        return new String(b, StandardCharsets.UTF_8);
    }
}
