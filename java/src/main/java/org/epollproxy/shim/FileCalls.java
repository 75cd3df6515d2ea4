package org.epollproxy.shim;

import java.lang.ref.Reference;

/**
 * The path-taking {@link Kernel} calls with a Java string: each copies the path into native memory as a
 * NUL-terminated string ({@link FileStat#cString}) that stays alive through the call. Results as the
 * kernel's: 0 or a descriptor, or -errno.
 */
public final class FileCalls {
    public static int mkdir(Kernel k, String path, int mode) {
        NativeBuffer p = FileStat.cString(path);
        try {
            return k.mkdir(p.address(), mode);
        } finally {
            Reference.reachabilityFence(p);
        }
    }

    public static int rmdir(Kernel k, String path) {
        NativeBuffer p = FileStat.cString(path);
        try {
            return k.rmdir(p.address());
        } finally {
            Reference.reachabilityFence(p);
        }
    }

    public static int unlink(Kernel k, String path) {
        NativeBuffer p = FileStat.cString(path);
        try {
            return k.unlink(p.address());
        } finally {
            Reference.reachabilityFence(p);
        }
    }

    public static int chmod(Kernel k, String path, int mode) {
        NativeBuffer p = FileStat.cString(path);
        try {
            return k.chmod(p.address(), mode);
        } finally {
            Reference.reachabilityFence(p);
        }
    }

    public static int openDirectory(Kernel k, String path) {
        NativeBuffer p = FileStat.cString(path);
        try {
            return k.open_directory(p.address());
        } finally {
            Reference.reachabilityFence(p);
        }
    }

    public static int rename(Kernel k, String from, String to, int flags) {
        NativeBuffer f = FileStat.cString(from);
        NativeBuffer t = FileStat.cString(to);
        try {
            return k.rename(f.address(), t.address(), flags);
        } finally {
            Reference.reachabilityFence(f);
            Reference.reachabilityFence(t);
        }
    }

    private FileCalls() {}
}
