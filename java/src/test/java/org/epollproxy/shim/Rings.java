package org.epollproxy.shim;

import org.junit.jupiter.api.Assumptions;

/** For tests of the io_uring loop: they skip, saying why, where the kernel refuses this process a ring. */
public final class Rings {

    /** Aborts the calling test (skipped, with the kernel's reason) unless a ring can be set up here. */
    public static void assumeAllowed() {
        try {
            IoUring.open(Shim.load(), 4, 8).close();
        } catch (SyscallException e) {
            Assumptions.abort("this kernel refuses io_uring here (" + e.getMessage() + "): nothing to test");
        }
    }

    private Rings() {}
}
