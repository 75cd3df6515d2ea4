package org.epollproxy.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.epollproxy.Ports;
import org.epollproxy.forward.AccessRules;
import org.epollproxy.forward.Backend;
import org.epollproxy.forward.Balancing;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.PrereadLimits;
import org.epollproxy.forward.ProxyProtocol;
import org.epollproxy.forward.Route;
import org.epollproxy.forward.Settings;
import org.epollproxy.forward.balance.BackendGroup;
import org.epollproxy.shim.Shim;
import org.epollproxy.shim.SockAddr;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Re-resolution reaches a route's backends as it does a forward's, and an address a round adds slow-starts
 * (--slow-start) as a backend coming up does, while a name's first answer does not. Rounds run by hand.
 */
class ReresolverRoutesTest {
    private final AtomicReference<List<InetAddress>> answer = new AtomicReference<>();
    private final ProxyServer proxy = new ProxyServer(Shim.load(), Settings.DEFAULTS, new PrintStream(new ByteArrayOutputStream(), true));
    private final Reresolver names = new Reresolver(name -> answer.get(), 3_600_000, new PrintStream(new ByteArrayOutputStream(), true));

    private static List<InetAddress> ips(String... s) throws Exception {
        InetAddress[] out = new InetAddress[s.length];
        for (int i = 0; i < s.length; i++) out[i] = InetAddress.getByName(s[i]);
        return List.of(out);
    }

    private static Forward tcp(int port, Balancing b, Backend... backends) throws Exception {
        return new Forward(Forward.Proto.TCP, SockAddr.parse("127.0.0.1", port), List.of(backends), AccessRules.ALLOW_ALL, -1, null,
                "test", ProxyProtocol.OFF, b, false);
    }

    /** The backends' addresses as Backend lists them. */
    private static String list(String... addresses) {
        StringBuilder sb = new StringBuilder();
        for (String a : addresses) {
            String[] hp = a.split(":");
            sb.append(sb.length() == 0 ? "" : ", ").append(new Backend("x", SockAddr.parse(hp[0], Integer.parseInt(hp[1])), 1));
        }
        return "[" + sb + "]";
    }

    private static Backend app() throws Exception {
        return new Backend("app.test", SockAddr.parse("127.0.0.2", 8080), 1);
    }

    @AfterEach
    void stop() throws Exception {
        names.stop();
        proxy.stop(10, TimeUnit.SECONDS);
    }

    @Test
    void aRoutesBackendNameIsReResolvedLikeAForwards() throws Exception {
        Forward listener = tcp(Ports.free(), Balancing.DEFAULT, new Backend("127.0.0.1", SockAddr.parse("127.0.0.1", 9), 1));
        Forward target = listener.routeTarget("sni:a.example", List.of(app()), Balancing.DEFAULT, null, "route sni:a.example");
        answer.set(ips("127.0.0.2"));
        proxy.start(names.expandAtStart(List.of(listener.withRoutes(List.of(new Route("sni:a.example", target)), PrereadLimits.DEFAULT)), Map.of()));
        names.start(proxy);
        assertEquals(list("127.0.0.2:8080"), proxy.forwards().get(0).routes().get(0).target().backends().toString());

        answer.set(ips("127.0.0.3", "127.0.0.4"));
        names.round();
        Forward running = proxy.forwards().get(0);
        assertEquals(list("127.0.0.3:8080", "127.0.0.4:8080"), running.routes().get(0).target().backends().toString(), "the route's name, re-resolved");
        assertEquals(list("127.0.0.1:9"), running.backends().toString(), "the listener's own backend, an address, as it was");
        assertEquals("app.test", proxy.backendPool().names().get(0).name());
    }

    /** Clients (of 2000 picked now) each backend of {@code g} would take. */
    private static int[] picks(BackendGroup g) {
        int[] got = new int[g.size()];
        long now = System.nanoTime();
        for (int i = 0; i < 2000; i++) got[g.pick(null, 0, now)]++;
        return got;
    }

    @Test
    void anAddressARoundAddsSlowStartsAndTheFirstAnswersDoNot() throws Exception {
        proxy.backendPool().setSlowStart(TimeUnit.HOURS.toNanos(1)); // long: the share stays near 1/16 on a busy machine
        Balancing rr = Balancing.DEFAULT.withPolicy(Balancing.Policy.ROUNDROBIN);
        answer.set(ips("127.0.0.2", "127.0.0.3"));
        proxy.start(names.expandAtStart(List.of(tcp(Ports.free(), rr, app())), Map.of()));
        names.start(proxy);
        int[] atStart = picks(proxy.backendPool().group(proxy.forwards().get(0)));
        assertEquals(1000, atStart[0], "the first answer's addresses take their whole share");
        assertEquals(1000, atStart[1]);

        answer.set(ips("127.0.0.2", "127.0.0.3", "127.0.0.4"));
        names.round();
        assertEquals(list("127.0.0.2:8080", "127.0.0.3:8080", "127.0.0.4:8080"), proxy.forwards().get(0).backends().toString());
        int[] after = picks(proxy.backendPool().group(proxy.forwards().get(0)));
        assertTrue(after[2] < 300, "the new address starts with about 1/16 of its third: " + after[2]);
        assertTrue(after[0] + after[1] > 1700, "the others take what it passes on: " + after[0] + ", " + after[1]);
    }
}
