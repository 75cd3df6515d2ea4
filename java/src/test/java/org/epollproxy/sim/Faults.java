package org.epollproxy.sim;

import java.util.SplittableRandom;

/**
 * How hostile the simulated kernel is for one seed: the probability of each injected fault per call.
 * A quarter of the seeds run with no fault at all (so a failure there is plain logic), the rest with
 * light, heavy or independently random rates.
 */
final class Faults {
    /** recv/send/accept return -EAGAIN although they could have made progress. */
    double eagain;
    /** send/recv move 1..n bytes instead of all that fit. */
    double partial;
    /** epoll_wait reports IN or OUT for a socket that is not ready (LT: it is reported again anyway). */
    double spurious;
    /** epoll_wait returns 0 at once: what the shim makes of EINTR. */
    double eintrWait;
    /** close returns -EINTR (the fd is closed all the same, as on Linux). */
    double eintrClose;
    /** connect returns -EINPROGRESS where it could have answered at once: the shim's EINTR mapping. */
    double eintrConnect;
    /** A pending peer or network action runs in the middle of a syscall (an RST between two calls). */
    double interleave;
    /** epoll_ctl ADD/MOD fails with -ENOMEM. */
    double ctlNomem;
    /** A data-path syscall throws a RuntimeException: a bug in one connection's handler. */
    double thrown;
    /** splice returns -EINVAL (this socket cannot splice): the copy-path fall back. */
    double spliceInval;
    /** -EMFILE once the proxy holds this many fds. */
    int fdLimit = Integer.MAX_VALUE;

    static Faults none() {
        return new Faults();
    }

    static Faults random(SplittableRandom r) {
        Faults f = new Faults();
        int level = r.nextInt(4);
        if (level == 0) return f;
        double scale = level == 1 ? 0.02 : 0.2;
        f.eagain = pick(r, level, scale);
        f.partial = pick(r, level, scale * 2);
        f.spurious = pick(r, level, scale);
        f.eintrWait = pick(r, level, scale);
        f.eintrClose = pick(r, level, scale);
        f.eintrConnect = pick(r, level, 0.5);
        f.interleave = pick(r, level, scale * 2);
        f.ctlNomem = pick(r, level, scale / 20);
        f.thrown = pick(r, level, scale / 20);
        if (r.nextInt(4) == 0) f.fdLimit = 6 + r.nextInt(12);
        f.spliceInval = pick(r, level, scale / 10); // drawn last: earlier draws, and so old seeds, stay as they were
        return f;
    }

    private static double pick(SplittableRandom r, int level, double scale) {
        return level == 3 ? r.nextDouble() * scale : scale;
    }

    @Override
    public String toString() {
        return String.format("eagain=%.3f partial=%.3f spurious=%.3f eintrWait=%.3f eintrClose=%.3f eintrConnect=%.3f "
                        + "interleave=%.3f ctlNomem=%.4f thrown=%.4f spliceInval=%.4f fdLimit=%s", eagain, partial, spurious, eintrWait,
                eintrClose, eintrConnect, interleave, ctlNomem, thrown, spliceInval, fdLimit == Integer.MAX_VALUE ? "none" : fdLimit);
    }
}
