package org.epollproxy.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.epollproxy.forward.Backend;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.Settings;
import org.epollproxy.forward.balance.ResolvedName;
import org.epollproxy.shim.Shim;
import org.epollproxy.shim.SockAddr;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Re-resolution against a real ProxyServer, with answers the test sets (rounds run by hand). */
class ReresolverTest {
    private final AtomicReference<Object> answer = new AtomicReference<>();
    private final ByteArrayOutputStream log = new ByteArrayOutputStream();
    private final ProxyServer proxy = new ProxyServer(Shim.load(), Settings.DEFAULTS, new PrintStream(new ByteArrayOutputStream(), true));
    private final Reresolver names = new Reresolver(name -> {
        Object a = answer.get();
        if (a instanceof Exception e) throw e;
        @SuppressWarnings("unchecked")
        List<InetAddress> l = (List<InetAddress>) a;
        return l;
    }, 3_600_000, new PrintStream(log, true, StandardCharsets.UTF_8));

    private static List<InetAddress> ips(String... s) throws Exception {
        InetAddress[] out = new InetAddress[s.length];
        for (int i = 0; i < s.length; i++) out[i] = InetAddress.getByName(s[i]);
        return List.of(out);
    }

    private static Forward named(int port) throws Exception {
        return new Forward(SockAddr.of(InetAddress.getByName("127.0.0.1"), port),
                List.of(new Backend("app.test", SockAddr.of(InetAddress.getByName("127.0.0.2"), 8080), 3)));
    }

    private String backends() {
        return proxy.forwards().get(0).toString().replaceAll("^.* -> ", "");
    }

    @AfterEach
    void stop() throws Exception {
        names.stop();
        proxy.stop(10, TimeUnit.SECONDS);
    }

    /** Issue 27: a thread costs idle RSS; forwards to addresses only have nothing to re-resolve. */
    @Test
    void noThreadUntilABackendIsGivenByName() throws Exception {
        Forward byAddress = new Forward(SockAddr.of(InetAddress.getByName("127.0.0.1"), 0),
                List.of(new Backend("127.0.0.2", SockAddr.of(InetAddress.getByName("127.0.0.2"), 8080), 1)));
        answer.set(ips("127.0.0.2"));
        proxy.start(names.expandAtStart(List.of(byAddress), Map.of()));
        names.start(proxy);
        assertTrue(!names.scheduling(), "no name, no re-resolving thread");
        names.reconfigure(List.of(named(0)), Map.of()); // a reload brings a name
        assertTrue(names.scheduling(), "a name from a reload starts the thread");
    }

    @Test
    void aChangedAnswerChangesTheBackendsAndAFailedOneKeepsThemSayingItOnce() throws Exception {
        answer.set(ips("127.0.0.2", "127.0.0.3"));
        proxy.start(names.expandAtStart(List.of(named(0)), Map.of()));
        names.start(proxy);
        assertEquals("127.0.0.2:8080,127.0.0.3:8080", backends());
        assertEquals(List.of(3, 3), proxy.forwards().get(0).backends().stream().map(Backend::weight).toList(), "each address: the name's weight");

        answer.set(ips("127.0.0.3", "127.0.0.4"));
        names.round();
        assertEquals("127.0.0.3:8080,127.0.0.4:8080", backends(), "the one that stays keeps its place");

        answer.set(new Exception("no answer within 2 x 2000 ms"));
        names.round();
        names.round();
        answer.set(List.of());
        names.round();
        assertEquals("127.0.0.3:8080,127.0.0.4:8080", backends(), "the last good set stays");
        assertEquals(new ResolvedName("app.test", 2, 3, 2, "the answer has no address"), proxy.backendPool().names().get(0));
        String said = log.toString(StandardCharsets.UTF_8);
        assertEquals(1, said.split("no answer within", -1).length - 1, said);
        assertEquals(1, said.split("the answer has no address", -1).length - 1, said);
    }

    @Test
    void aRefusedReloadIsNotAppliedByALaterRound() throws Exception {
        answer.set(ips("127.0.0.2"));
        proxy.start(names.expandAtStart(List.of(named(0)), Map.of()));
        names.start(proxy);
        assertTrue(proxy.beginHandOver() != null); // a takeover in progress refuses reloads
        assertThrows(IllegalStateException.class, () -> names.reconfigure(List.of(named(0), named(0).boundTo(SockAddr.of(InetAddress.getByName("127.0.0.1"), 1))), Map.of()));
        proxy.handOverEnded();
        answer.set(ips("127.0.0.5"));
        names.round();
        assertEquals(1, proxy.forwards().size(), "the refused reload's second forward: " + proxy.forwards());
        assertEquals("127.0.0.5:8080", backends());
    }
}
