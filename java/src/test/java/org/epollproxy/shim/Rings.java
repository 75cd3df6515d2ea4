package org.epollproxy.shim;

import org.junit.jupiter.api.Assumptions;

/** For tests of the io_uring loop: they skip, saying why, where the kernel refuses this process a ring. */
public final class Rings {

    /** Aborts the calling test (skipped, with the kernel's reason) unless a ring can be set up here. */
    public static void assumeAllowed() {
        try {
            IoUring.open(Shim.load(), 4, 8).close();
        } catch (SyscallException e) {
            throw skipIfRefused(e);
        }
    }

    /**
     * Skips the calling test if {@code e} says the kernel refuses this process io_uring (ENOSYS: none, or too
     * old; EPERM: {@code kernel.io_uring_disabled}, a seccomp filter); else returns it for the caller to throw:
     * any other failure is a bug to see, not a machine to skip.
     */
    static SyscallException skipIfRefused(SyscallException e) {
        Assumptions.assumeFalse(e.errno() == Errno.ENOSYS || e.errno() == Errno.EPERM,
                "this kernel refuses io_uring here (" + e.getMessage() + "): nothing to test");
        return e;
    }

    private Rings() {}
}
