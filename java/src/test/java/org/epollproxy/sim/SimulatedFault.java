package org.epollproxy.sim;

/** An exception a simulated syscall throws on purpose: a stand-in for a bug in one connection's code. */
final class SimulatedFault extends RuntimeException {
    SimulatedFault(String message) {
        super(message);
    }
}
