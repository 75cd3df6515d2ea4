package org.epollproxy.cli;

import org.epollproxy.forward.Settings;
import picocli.CommandLine.Option;

/**
 * The command line's options about how the forwarding work is done (a picocli mixin of {@link Main}): how
 * many event loops, and whether bulk bytes move by splice(2) through pipes of what size.
 */
final class PerformanceArgs {

    @Option(names = "--threads", paramLabel = "N", defaultValue = "1",
            description = "Event loops (threads), each with its own SO_REUSEPORT listener; one per core at most "
                    + "(default: 1).")
    int threads;

    @Option(names = "--splice",
            description = "Zero-copy for bulk transfers: move bytes socket -> pipe -> socket with splice(2); small "
                    + "messages are still copied.")
    boolean splice;

    @Option(names = "--pipe-size", paramLabel = "SIZE", converter = SizeConverter.class,
            description = "With --splice: each pipe's capacity (default: the kernel's, 64k; above "
                    + "/proc/sys/fs/pipe-max-size needs CAP_SYS_RESOURCE), e.g. --splice --pipe-size 256k.")
    Integer pipeSize;

    @Option(names = "--io-uring",
            description = "Wait and send through io_uring (Linux 6.1+) instead of epoll: one syscall per batch instead "
                    + "of one per send and wait, for less CPU per message; a loop whose kernel refuses a ring "
                    + "says so and uses epoll.")
    boolean ioUring;

    /** Puts these options into {@code b}; call after Main's checks passed. */
    Settings.Builder applyTo(Settings.Builder b) {
        return b.threads(threads)
                .splice(splice)
                .pipeSize(pipeSize == null ? 0 : pipeSize)
                .ioUring(ioUring);
    }
}
