package org.epollproxy.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.epollproxy.forward.Backend;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.Settings;
import org.epollproxy.forward.balance.AdminState;
import org.epollproxy.forward.balance.BackendGroup;
import org.epollproxy.forward.balance.BackendState;
import org.epollproxy.shim.Shim;
import org.epollproxy.shim.SockAddr;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What the operator set with ctl outlives a blink of the name's answer: an address that a round drops
 * (a pod not ready for a moment, a server that answered part of the set) and a later round brings back
 * is still disabled, or drained, with the weight ctl gave it; it is not back in service behind the
 * operator's back. Its health and counters start fresh. A real ProxyServer; rounds run by hand.
 */
class ReresolverOperatorStateTest {
    private final AtomicReference<List<InetAddress>> answer = new AtomicReference<>();
    private final ProxyServer proxy = new ProxyServer(Shim.load(), Settings.DEFAULTS, new PrintStream(new ByteArrayOutputStream(), true));
    private final Reresolver names = new Reresolver(name -> answer.get(), 3_600_000, new PrintStream(new ByteArrayOutputStream(), true));

    @AfterEach
    void stop() throws Exception {
        names.stop();
        proxy.stop(10, TimeUnit.SECONDS);
    }

    private static List<InetAddress> ips(String... s) throws Exception {
        InetAddress[] out = new InetAddress[s.length];
        for (int i = 0; i < s.length; i++) out[i] = InetAddress.getByName(s[i]);
        return List.of(out);
    }

    /** The state of the backend at {@code address}:8080 of the one forward. */
    private BackendState state(String address) {
        BackendGroup g = proxy.backendPool().groups().get(0);
        for (int i = 0; i < g.size(); i++) if (g.state(i).address().hostText().equals(address)) return g.state(i);
        throw new AssertionError(address + " is not a backend: " + proxy.forwards());
    }

    @Test
    void anAddressThatGoesAndComesBackKeepsWhatCtlSet() throws Exception {
        answer.set(ips("127.0.0.2", "127.0.0.3", "127.0.0.4"));
        Forward named = new Forward(SockAddr.of(InetAddress.getByName("127.0.0.1"), 0),
                List.of(new Backend("app.test", SockAddr.of(InetAddress.getByName("127.0.0.2"), 8080), 3)));
        proxy.start(names.expandAtStart(List.of(named), Map.of()));
        names.start(proxy);
        state("127.0.0.3").setAdmin(AdminState.DISABLED, "ctl (uid 0)");
        state("127.0.0.4").setAdmin(AdminState.DRAIN, "ctl (uid 0)");
        state("127.0.0.4").setWeight(7, 3, "ctl (uid 0)");

        answer.set(ips("127.0.0.2"));
        names.round();
        assertEquals(1, proxy.backendPool().groups().get(0).size(), "the two addresses went: " + proxy.forwards());

        answer.set(ips("127.0.0.2", "127.0.0.4", "127.0.0.3"));
        names.round();
        assertEquals(AdminState.DISABLED, state("127.0.0.3").admin(), "disabled by the operator, and still");
        assertEquals(AdminState.DRAIN, state("127.0.0.4").admin());
        assertEquals(7, proxy.backendPool().groups().get(0).weight(1), "the weight ctl set");
        assertEquals(AdminState.READY, state("127.0.0.2").admin(), "nobody touched this one");
    }
}
