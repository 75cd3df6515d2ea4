package org.epollproxy.bench.fwd;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.epollproxy.forward.Backend;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.LoopCounters;
import org.epollproxy.runtime.ProxyServer;
import org.epollproxy.forward.Settings;
import org.epollproxy.loop.LoopStats;
import org.epollproxy.shim.Shim;
import org.epollproxy.shim.SockAddr;

/** This project's forwarder ({@link ProxyServer}), one loop, no per-connection log lines. */
final class ProjectForwarder implements BenchForwarder {
    private final ProxyServer proxy;
    private final int port;

    ProjectForwarder(int backendPort) {
        Settings settings = Settings.builder().bufferSize(BUFFER_SIZE).logConnections(false).threads(1).build();
        proxy = new ProxyServer(Shim.load(), settings, System.err);
        Forward f = new Forward(SockAddr.parse("127.0.0.1", 0),
                List.of(new Backend("127.0.0.1", SockAddr.parse("127.0.0.1", backendPort))));
        port = proxy.start(List.of(f)).get(0).bind().port();
    }

    @Override
    public int port() {
        return port;
    }

    @Override
    public void close() {
        // -Dbench.loopStats: the loop's syscall counters for the trial, to see where a scenario's time goes.
        if (Boolean.getBoolean("bench.loopStats")) {
            LoopStats ls = proxy.loops().get(0).stats();
            LoopCounters lc = proxy.forwardingLoops().get(0).counters();
            System.err.printf("epoll-proxy loop: waits=%d events=%d ctl add=%d mod=%d del=%d recv-EAGAIN=%d"
                            + " send-EAGAIN=%d partial-sends=%d%n", ls.waits, ls.events, ls.ctlAdd, ls.ctlMod, ls.ctlDel,
                    lc.eagainRecv, lc.eagainSend, lc.partialSends);
        }
        try {
            if (!proxy.stop(5, TimeUnit.SECONDS)) throw new IllegalStateException("epoll-proxy did not stop in 5 s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
