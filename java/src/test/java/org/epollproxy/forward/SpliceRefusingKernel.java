package org.epollproxy.forward;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.InterposedKernel;
import org.epollproxy.shim.Kernel;

/**
 * The real shim, except that splice(2) answers -EINVAL the way a kernel does for an fd that cannot
 * splice: into a pipe ({@link Refuse#INTO_PIPE}, the socket -> pipe step), out of one
 * ({@link Refuse#OUT_OF_PIPE}, the pipe -> socket step, with bytes already in the pipe), or both.
 */
final class SpliceRefusingKernel {
    enum Refuse { INTO_PIPE, OUT_OF_PIPE, BOTH }

    static Kernel over(Kernel real, Refuse refuse) {
        Set<Integer> pipeReadEnds = ConcurrentHashMap.newKeySet();
        return InterposedKernel.over(real, (name, args, call) -> {
            if (name.equals("splice")) {
                boolean outOfPipe = pipeReadEnds.contains((Integer) args[0]);
                boolean refused = refuse == Refuse.BOTH || (refuse == Refuse.OUT_OF_PIPE) == outOfPipe;
                if (refused) return -Errno.EINVAL;
            }
            Object result = call.invoke();
            if (name.equals("pipe2") && (Long) result >= 0) pipeReadEnds.add((int) ((Long) result >>> 32));
            if (name.equals("close")) pipeReadEnds.remove((Integer) args[0]);
            return result;
        });
    }

    private SpliceRefusingKernel() {}
}
