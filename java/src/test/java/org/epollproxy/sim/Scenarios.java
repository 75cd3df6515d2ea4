package org.epollproxy.sim;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiPredicate;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.epollproxy.forward.ProxyProtocol;

/**
 * Named scenarios: each forces one situation that random seeds meet only by luck (an event order in one
 * epoll_wait batch, a syscall that throws or an epoll_ctl that fails at one chosen moment, a connect
 * that answers at once) and then lets the simulation's usual invariants judge the run. No scenario has
 * an assert of its own for its bug: with the fix it guards reverted, one of those invariants breaks.
 * Each does check afterwards that its situation really happened, so a change to the proxy or to the
 * simulation that makes the forcing miss fails loudly instead of passing quietly.
 *
 * <p>Every scenario runs on a quiet kernel (no random fault) with the settings it names, so it does not
 * depend on what its seed draws; the seed only picks the incidental (receive queue sizes, step times).
 */
final class Scenarios {
    /** One scenario: what it forces, the fix it guards, and how to check the situation happened. */
    record Named(String name, String guards, long seed, Supplier<Simulation.Scenario> scenario, Consumer<Simulation.Result> happened) {
        /** Runs it: a {@link SimViolation} if an invariant breaks, an AssertionError if the situation did not happen. */
        Simulation.Result run() {
            Simulation.Result r = Simulation.run(seed, false, scenario.get());
            happened.accept(r);
            return r;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /**
     * The token guard. Pair A is connected; its backend and its client both reset, and client B arrives,
     * in one batch, which delivers A's backend event first (A closes: its client's fd and slot are freed,
     * then its backend's), then the listener's (B is accepted: it gets A's fd numbers back and, the free
     * slots being a stack, B's backend socket, whose connect is pending, gets the slot of A's client), then
     * A's client event, queued before any of this. That event is stale. Without the generation bump in
     * {@code EventLoop.release} it is delivered to B's connecting backend as ERR|HUP, and B gives up a
     * backend that was accepting: the failover invariant breaks. With it, the loop drops the event.
     * Which event is stale matters: one of A's backend would land on B's client, a connected socket, where
     * a spurious event is harmless under level-triggered epoll, so that variant passes with or without
     * the guard. Only a connecting socket takes a stale event for an answer.
     */
    static final Named STALE_EVENT = new Named("a stale event of a closed fd, in the same batch as the accept that reuses its number",
            "EventLoop.release bumps the slot's generation", 1, Scenarios::staleEvent, r -> {
                check(r.staleEvents == 1, "the loop dropped exactly one stale event: " + r.staleEvents);
                check(r.ends.getOrDefault("backend-reset", 0) == 1 && r.ends.getOrDefault("backend-closed", 0)
                        + r.ends.getOrDefault("client-closed", 0) == 1, "A was reset, B ended cleanly: " + r.ends);
            });

    private static Simulation.Scenario staleEvent() {
        Simulation.Scenario s = base(2);
        s.backends = 2; // B fails over if it takes the stale event for a failed connect
        s.arrivals = new long[] {0, 10 * World.SEC}; // A is connected long before (connects take at most 6 s)
        s.clientScriptOf = c -> c == 0 ? stall() : Peer.Script.polite(1000);
        AtomicInteger backendsMade = new AtomicInteger();
        s.kernel = s.kernel.andThen(k -> {
            k.connectAtOnce = false; // B's connect is pending while the batch is dispatched
            k.backendScript = w -> backendsMade.getAndIncrement() == 0 ? stall() : Peer.Script.polite(1000);
            k.batchRank = f -> {
                if (f instanceof SimKernel.Listener) return 1;
                if (f instanceof End e && e.pair != null && e.pair.id == 0) return e == e.pair.client ? 2 : 0;
                return 3;
            };
        });
        s.direct = (w, k) -> w.atExactly(w.now + 10 * World.SEC, "A's client and backend reset", () -> {
            SimPair a = k.pairs.get(0);
            for (Peer p : List.of(a.clientPeer, a.backendPeers.get(0))) {
                p.done = true;
                p.end.lingerZero = true;
                p.end.close();
            }
        });
        return s;
    }

    // ---- the bugs the simulation found, one scenario each ----

    static final Named RECV_THROWS_AFTER_POOL_TAKE = new Named("recv throws after the direction took a pool buffer",
            "Direction.fill: the buffer is the direction's before recv is called", 1, () -> {
                Simulation.Scenario s = base(1);
                s.kernel = s.kernel.andThen(k -> k.forceThrow = once((call, f) -> call.equals("recv") && isClient(f)));
                return s;
            }, r -> {
                check(r.thrown == 1, "recv threw once: " + r.thrown);
                check(r.ends.getOrDefault("error", 0) == 1, "the pair ended as an error: " + r.ends);
            });

    static final Named SETUP_THROWS_ON_ACCEPTED_FD = new Named("setting up an accepted socket throws",
            "TcpListener.accepted closes the accepted fd when the set-up throws", 1, () -> {
                Simulation.Scenario s = base(1);
                // An accepted socket inherits TCP_NODELAY from its listener: SO_KEEPALIVE is its one setsockopt left.
                s.settings = s.settings.andThen(st -> st.keepalive(true));
                s.kernel = s.kernel.andThen(k -> k.forceThrow = once((call, f) -> call.equals("setsockopt") && isClient(f)));
                return s;
            }, r -> {
                check(r.thrown == 1, "setsockopt threw once: " + r.thrown);
                check(r.ends.isEmpty(), "no pair was made: " + r.ends);
            });

    static final Named FIRST_CONNECT_THROWS = new Named("the first connect of a pair throws, inside the accept handler",
            "TcpListener.accepted fails the pair when its first connect throws", 1, () -> {
                Simulation.Scenario s = base(1);
                s.kernel = s.kernel.andThen(k -> k.forceThrow = once((call, f) -> call.equals("connect") && f instanceof End));
                return s;
            }, r -> {
                check(r.thrown == 1, "connect threw once: " + r.thrown);
                check(r.ends.getOrDefault("error", 0) == 1, "the pair ended as an error: " + r.ends);
            });

    static final Named FAILOVER_FROM_TIMER_THROWS = new Named("the failover the connect timer starts throws",
            "Pair.onTimer fails the pair when the timeout handling throws", 1, () -> {
                Simulation.Scenario s = base(1);
                s.backends = 2;
                s.backendModes = new int[] {SimKernel.Target.BLACKHOLE, SimKernel.Target.UP};
                s.kernel = s.kernel.andThen(k -> {
                    k.connectAtOnce = false;
                    k.forceThrow = once((call, f) -> call.equals("connect") && f instanceof End e && e.pair.backends.indexOf(e) == 1);
                });
                return s;
            }, r -> {
                check(r.thrown == 1, "the second connect threw once: " + r.thrown);
                check(r.ends.getOrDefault("error", 0) == 1, "the pair ended as an error: " + r.ends);
            });

    static final Named CONNECT_AT_ONCE = new Named("connect() answers 0 at once and both peers go quiet",
            "Pair.connected arms the idle timer (no connect timer was armed on this path)", 1, () -> {
                Simulation.Scenario s = base(1);
                s.clientScriptOf = c -> stall();
                s.kernel = s.kernel.andThen(k -> {
                    k.connectAtOnce = true;
                    k.backendScript = w -> stall();
                });
                return s;
            }, r -> check(r.ends.getOrDefault("idle-timeout", 0) == 1, "the pair ended by its idle timeout: " + r.ends));

    static final Named TIMEOUT_WITH_BYTES_PENDING = new Named("the idle timeout closes a pair whose backend stopped reading",
            "PairEnd.close resets (SO_LINGER 0) a side that still had bytes to get", 1, () -> {
                Simulation.Scenario s = base(1);
                s.clientScriptOf = c -> Peer.Script.polite(200_000);
                s.kernel = s.kernel.andThen(k -> {
                    Peer.Script deaf = stall();
                    deaf.readLimit = 0;
                    k.backendScript = w -> deaf;
                });
                return s;
            }, r -> {
                check(r.ends.getOrDefault("idle-timeout", 0) == 1, "the pair ended by its idle timeout: " + r.ends);
                check(r.backends.get(0).end.dead, "the backend got an RST: " + r.backends.get(0));
            });

    static final Named LISTENER_RE_ADD_FAILS = new Named("epoll_ctl fails re-adding a listener after an EMFILE pause",
            "TcpListener.updateInterest retries after the back-off", 1, () -> {
                Simulation.Scenario s = base(2);
                s.faults.fdLimit = 5; // epoll, eventfd, listener, and A's two sockets: B's accept gets EMFILE
                s.arrivals = new long[] {0, 100 * World.MS};
                s.clientScriptOf = c -> c == 0 ? stall() : Peer.Script.polite(1000);
                AtomicInteger backendsMade = new AtomicInteger();
                s.kernel = s.kernel.andThen(k -> {
                    k.connectAtOnce = false;
                    k.backendScript = w -> backendsMade.getAndIncrement() == 0 ? stall() : Peer.Script.polite(1000);
                    k.forceCtlNomem = once((op, f) -> f instanceof SimKernel.Listener);
                });
                return s;
            }, r -> {
                check(r.injected == 1, "ENOMEM re-adding the listener: " + r.injected + " faults");
                check(r.accepted == 2, "both clients were served: " + r.accepted);
            });

    static final Named UDP_SESSION_WATCH_FAILS = new Named("epoll_ctl fails watching a new UDP session socket",
            "UdpSession.open drops the session it cannot watch", 1, () -> {
                Simulation.Scenario s = base(1);
                s.udp = true;
                s.kernel = s.kernel.andThen(k -> k.forceCtlNomem = once((op, f) -> f instanceof SimUdp.Sock u && u.peer != null));
                return s;
            }, r -> check(r.injected == 1, "epoll_ctl refused one session socket: " + r.injected));

    /**
     * --splice with the loop's pipe pool: A's backend never reads, so A's bytes wait in A's pipe when A's
     * idle timeout closes it; then B arrives and splices through a pipe from the same pool. Were A's pipe
     * given back with its bytes, B's backend would receive A's stream: the invariant that every byte
     * belongs to its own connection breaks.
     */
    static final Named PAIR_ENDS_WITH_BYTES_IN_PIPE = new Named("a pair ends while bytes wait in its splice pipe, then another splices",
            "Direction.release closes a pipe that may hold bytes instead of giving it back to the pool", 1, () -> {
                Simulation.Scenario s = base(2);
                // Queues of 4 KiB and 1 KiB buffers: A's first recv fills a buffer, so A splices from then on
                // (--splice copies until a read brings a quarter of a buffer or 4 KiB), and the backend takes that first buffer whole.
                s.settings = s.settings.andThen(st -> st.splice(true).bufferSize(1024).pipeSize(65536));
                s.arrivals = new long[] {0, 20 * World.SEC}; // B after A's idle timeout (10 s)
                s.clientScriptOf = c -> Peer.Script.polite(200_000); // B's bytes too are a bulk stream: B splices
                AtomicInteger backendsMade = new AtomicInteger();
                s.kernel = s.kernel.andThen(k -> {
                    Peer.Script deaf = stall();
                    deaf.readLimit = 0;
                    k.backendScript = w -> backendsMade.getAndIncrement() == 0 ? deaf : Peer.Script.polite(1000);
                    k.forcedQueue = 4096;
                });
                return s;
            }, r -> {
                check(r.ends.getOrDefault("idle-timeout", 0) == 1, "A ended by its idle timeout: " + r.ends);
                check(r.ends.getOrDefault("client-closed", 0) + r.ends.getOrDefault("backend-closed", 0) == 1, "B ended cleanly: " + r.ends);
                check(r.pipesDiscarded == 1, "A's pipe was closed with bytes in it: " + r.pipesDiscarded + " discarded");
            });

    // ---- speculative I/O (docs/internals.md): the client read at accept, the send right after a loopback connect ----

    /**
     * A base scenario in which every client's first move (bytes, FIN or RST) is made before accept returns,
     * and every connect is answered inside the call, as on loopback.
     */
    private static Simulation.Scenario speculative(int clients) {
        Simulation.Scenario s = base(clients);
        s.kernel = s.kernel.andThen(k -> {
            k.answeredInConnect = true;
            k.onAccept = e -> e.pair.clientPeer.actNow();
        });
        return s;
    }

    static final Named SPECULATIVE_SEND_REFUSED = new Named("the send right after a loopback connect finds it refused",
            "Connector.sendWhileConnecting takes a refusal down the failover path, the unsent bytes kept for the next backend", 1, () -> {
                Simulation.Scenario s = speculative(1);
                s.backends = 2;
                s.backendModes = new int[] {SimKernel.Target.DOWN, SimKernel.Target.UP};
                return s;
            }, r -> {
                check(r.speculativeRecvHits == 1, "the client's bytes were read at accept: " + r.speculativeRecvHits);
                check(r.sendsWhileConnecting == 1 && r.speculativeSendHits == 2, "the refusal and the connect were both seen by the send: "
                        + r.sendsWhileConnecting + " sends on a connecting socket, " + r.speculativeSendHits + " hits");
                check(r.ends.getOrDefault("client-closed", 0) + r.ends.getOrDefault("backend-closed", 0) == 1, "the pair ended cleanly: " + r.ends);
            });

    static final Named SPECULATIVE_SEND_PARTIAL = new Named("the send right after a loopback connect takes part of the bytes",
            "Connector.sendWhileConnecting counts a partial send as connected and leaves the rest to the usual flush", 1, () -> {
                Simulation.Scenario s = speculative(1);
                s.clientScriptOf = c -> {
                    Peer.Script big = Peer.Script.polite(20_000);
                    big.chunk = 3000;
                    return big;
                };
                s.kernel = s.kernel.andThen(k -> {
                    k.forcedQueue = 4096;
                    k.backendQueue = 100; // the first send takes 100 of the 3000 bytes read at accept
                });
                return s;
            }, r -> {
                check(r.speculativeRecvHits == 1 && r.speculativeSendHits == 1, "read at accept, sent at connect: "
                        + r.speculativeRecvHits + ", " + r.speculativeSendHits);
                check(r.ends.getOrDefault("client-closed", 0) + r.ends.getOrDefault("backend-closed", 0) == 1, "the pair ended cleanly: " + r.ends);
            });

    static final Named CLIENT_FIN_BEFORE_FIRST_READ = new Named("the client sends its FIN and nothing else before it is accepted",
            "Pair.readAtAccept takes recv's 0 for the client's FIN (passed on once connected), not for a failure", 1, () -> {
                Simulation.Scenario s = speculative(1);
                s.clientScriptOf = c -> Peer.Script.polite(0);
                return s;
            }, r -> {
                check(r.speculativeRecvHits == 1 && r.speculativeSendHits == 0, "the read at accept found the FIN, nothing was sent early: "
                        + r.speculativeRecvHits + ", " + r.speculativeSendHits);
                check(r.ends.getOrDefault("client-closed", 0) == 1, "the pair ended by the client's FIN: " + r.ends);
            });

    static final Named CLIENT_RESET_BEFORE_FIRST_READ = new Named("the client resets before it is accepted",
            "Pair.readAtAccept ends the pair as client-reset before any backend is tried", 1, () -> {
                Simulation.Scenario s = speculative(1);
                s.clientScriptOf = c -> {
                    Peer.Script rst = Peer.Script.polite(0);
                    rst.finish = Peer.Finish.RESET;
                    return rst;
                };
                return s;
            }, r -> {
                check(r.ends.getOrDefault("client-reset", 0) == 1, "the pair ended as client-reset: " + r.ends);
                check(r.backends.isEmpty(), "no backend was connected: " + r.backends);
            });

    static final Named SERVER_SPEAKS_FIRST = new Named("the backend speaks first (SSH, SMTP): nothing to read at accept",
            "Pair.readAtAccept takes EAGAIN for \"nothing yet\" and the client is watched as usual", 1, () -> {
                Simulation.Scenario s = base(1);
                s.clientScriptOf = c -> {
                    Peer.Script quiet = Peer.Script.polite(3000);
                    quiet.sendAfterEof = true; // says nothing before the backend's whole reply
                    return quiet;
                };
                s.kernel = s.kernel.andThen(k -> k.answeredInConnect = true);
                return s;
            }, r -> {
                check(r.speculativeRecvHits == 0 && r.speculativeSendHits == 0, "nothing read at accept, nothing sent early: "
                        + r.speculativeRecvHits + ", " + r.speculativeSendHits);
                check(r.ends.getOrDefault("client-closed", 0) + r.ends.getOrDefault("backend-closed", 0) == 1, "the pair ended cleanly: " + r.ends);
            });

    static final List<Named> ALL = List.of(SPECULATIVE_SEND_REFUSED, SPECULATIVE_SEND_PARTIAL, CLIENT_FIN_BEFORE_FIRST_READ,
            CLIENT_RESET_BEFORE_FIRST_READ, SERVER_SPEAKS_FIRST, STALE_EVENT, RECV_THROWS_AFTER_POOL_TAKE, SETUP_THROWS_ON_ACCEPTED_FD, FIRST_CONNECT_THROWS,
            FAILOVER_FROM_TIMER_THROWS, CONNECT_AT_ONCE, TIMEOUT_WITH_BYTES_PENDING, LISTENER_RE_ADD_FAILS, UDP_SESSION_WATCH_FAILS,
            PAIR_ENDS_WITH_BYTES_IN_PIPE);

    /**
     * No random fault, one TCP forward to one accepting backend, no PROXY header, copy path, polite
     * clients and backends, connects that answer later (-EINPROGRESS), and timeouts short enough that a
     * stalled pair ends in simulated seconds.
     */
    private static Simulation.Scenario base(int clients) {
        Simulation.Scenario s = Simulation.Scenario.quiet(clients, 5000, 5000);
        s.udp = false;
        s.sendProxy = ProxyProtocol.OFF;
        s.kernel = k -> k.connectAtOnce = false;
        s.settings = st -> {
            st.bufferSize(4096);
            st.connectTimeoutMs(10_000); // longer than any simulated connect takes: only a black hole times out
            st.idleTimeoutSec(10);
            st.finTimeoutSec(60);
            st.maxConnections(0);
            st.splice(false);
        };
        return s;
    }

    /** Sends nothing and never closes: reads what arrived by its first step, then nothing more. */
    private static Peer.Script stall() {
        Peer.Script s = Peer.Script.polite(0);
        s.finish = Peer.Finish.STALL;
        return s;
    }

    private static boolean isClient(Object f) {
        return f instanceof End e && e.pair != null && e == e.pair.client;
    }

    /** True the first time {@code p} holds, never after. */
    private static <A, B> BiPredicate<A, B> once(BiPredicate<A, B> p) {
        boolean[] fired = {false};
        return (a, b) -> {
            if (fired[0] || !p.test(a, b)) return false;
            fired[0] = true;
            return true;
        };
    }

    private static void check(boolean ok, String what) {
        if (!ok) throw new AssertionError("the scenario did not happen as planned: " + what);
    }

    private Scenarios() {}
}
