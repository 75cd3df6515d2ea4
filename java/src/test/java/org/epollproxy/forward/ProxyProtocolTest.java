package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.epollproxy.Ports;
import org.epollproxy.shim.SockAddr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code --send-proxy v1|v2}: the backend learns the real client address before any client byte. */
class ProxyProtocolTest {

    record Received(ProxyHeaderParser.Header header, byte[] payload) {}

    /** A backend that parses the header, then reads the client's bytes to EOF, and answers "ok". */
    static TestBackend parsing(CompletableFuture<Received> got) throws Exception {
        return TestBackend.start(s -> {
            try {
                ProxyHeaderParser.Header h = ProxyHeaderParser.read(s.getInputStream());
                got.complete(new Received(h, s.getInputStream().readAllBytes()));
                s.getOutputStream().write("ok".getBytes());
            } catch (Exception e) {
                got.completeExceptionally(e);
                throw e;
            }
        });
    }

    @ParameterizedTest(name = "{0} from {1}, splice {2}")
    @CsvSource({
        "V1, 127.0.0.1, false", "V2, 127.0.0.1, false", "V1, ::1, false", "V2, ::1, false",
        "V1, 127.0.0.1, true", "V2, 127.0.0.1, true", "V1, ::1, true", "V2, ::1, true",
    })
    void theBackendReadsTheClientsRealAddressThenItsBytes(ProxyProtocol version, String ip, boolean splice) throws Exception {
        CompletableFuture<Received> got = new CompletableFuture<>();
        Settings st = Settings.builder().splice(splice).build();
        try (TestBackend backend = parsing(got)) {
            Forward f = TestProxy.tcpForwards(backend.port()).get(0);
            Forward viaIp = new Forward(SockAddr.parse(ip, 0), f.backends()).withSendProxy(version);
            try (TestProxy proxy = new TestProxy(st, List.of(viaIp)); Socket c = new Socket()) {
                c.connect(new InetSocketAddress(InetAddress.getByName(ip), proxy.port()), 5000);
                c.setSoTimeout(20_000);
                byte[] payload = "the client speaks first, before the backend is even connected".getBytes();
                c.getOutputStream().write(payload); // at once: the header must still come first
                c.shutdownOutput();
                assertEquals("ok", new String(c.getInputStream().readAllBytes()));

                Received r = got.get(20, TimeUnit.SECONDS);
                ProxyHeaderParser.Header h = r.header();
                assertEquals(version == ProxyProtocol.V1 ? 1 : 2, h.version());
                assertEquals(ip.contains(":") ? "TCP6" : "TCP4", h.family());
                assertEquals(c.getLocalAddress(), h.src(), "the client's address");
                assertEquals(c.getLocalPort(), h.srcPort(), "the client's port");
                assertEquals(InetAddress.getByName(ip), h.dst(), "the address the client connected to");
                assertEquals(proxy.port(), h.dstPort());
                assertArrayEquals(payload, r.payload(), "then exactly the client's bytes");
                proxy.awaitLog("up=" + payload.length + " down=2 ");
            }
        }
    }

    @Test
    void aFailedBackendDoesNotConsumeTheHeaderTheNextOneGetsItOnce() throws Exception {
        int closedPort = Ports.free();
        CompletableFuture<Received> got = new CompletableFuture<>();
        try (TestBackend backend = parsing(got)) {
            Forward f = new Forward(SockAddr.parse("127.0.0.1", 0), List.of(
                    new Backend("127.0.0.1", SockAddr.parse("127.0.0.1", closedPort)),
                    new Backend("127.0.0.1", SockAddr.parse("127.0.0.1", backend.port())))).withSendProxy(ProxyProtocol.V1);
            try (TestProxy proxy = new TestProxy(Settings.DEFAULTS, List.of(f)); Socket c = proxy.connect()) {
                c.getOutputStream().write("x".getBytes());
                c.shutdownOutput();
                assertEquals("ok", new String(c.getInputStream().readAllBytes()));
                Received r = got.get(20, TimeUnit.SECONDS);
                assertEquals(c.getLocalPort(), r.header().srcPort());
                assertEquals("x", new String(r.payload()), "one header, then the client's byte");
            }
        }
    }

    @Test
    void ipv4ClientsOfADualStackListenerAreAnnouncedAsIpv4() throws Exception {
        SockAddr client = SockAddr.parse("::ffff:10.1.2.3", 40000);
        SockAddr proxy = SockAddr.parse("::ffff:10.9.8.7", 443);
        assertEquals("PROXY TCP4 10.1.2.3 10.9.8.7 40000 443\r\n",
                new String(ProxyProtocol.V1.header(client, proxy), StandardCharsets.US_ASCII));
        ProxyHeaderParser.Header h = ProxyHeaderParser.read(new ByteArrayInputStream(ProxyProtocol.V2.header(client, proxy)));
        assertEquals(new ProxyHeaderParser.Header(2, "TCP4", InetAddress.getByName("10.1.2.3"),
                InetAddress.getByName("10.9.8.7"), 40000, 443), h);
    }

    @Test
    void theLongestV1LineFitsTheProtocolsLimit() throws Exception {
        SockAddr client = SockAddr.parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 65535);
        SockAddr proxy = SockAddr.parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
        byte[] line = ProxyProtocol.V1.header(client, proxy);
        assertTrue(line.length <= ProxyHeaderParser.V1_MAX, line.length + " bytes");
        assertEquals(ProxyProtocol.V1, ProxyProtocol.parse("v1"));
        assertEquals(ProxyProtocol.V2, ProxyProtocol.parse("V2"));
    }
}
