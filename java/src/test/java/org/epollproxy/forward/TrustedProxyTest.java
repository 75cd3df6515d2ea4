package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.epollproxy.Ports;
import org.epollproxy.shim.SockAddr;
import org.epollproxy.stats.StatsServer;
import org.junit.jupiter.api.Test;

/**
 * --accept-proxy-from: a real haproxy (send-proxy, connecting from 127.0.0.8) is trusted and its header
 * names the client; a client reaching the port directly with a forged header is closed unread
 * (end=untrusted-proxy, a log line, a metric) and its backend never sees a connection.
 */
class TrustedProxyTest {

    static Forward accepting(int backendPort, List<String> trusted) {
        return new Forward(Forward.Proto.TCP, SockAddr.parse("127.0.0.1", 0), List.of(TestProxy.backend(backendPort)),
                AccessRules.ALLOW_ALL, -1, null, "accepting", ProxyProtocol.OFF, true).withAcceptProxyFrom(trusted);
    }

    @Test
    void onlyTheTrustedLoadBalancerMaySendTheHeaderAndADirectClientIsRefused() throws Exception {
        String haproxy = ThirdParty.require("haproxy", "haproxy");
        Path dir = Files.createTempDirectory("haproxy-trust");
        Process p = null;
        try (TestBackend backend = TestBackend.echo();
                TestProxy proxy = new TestProxy(Settings.DEFAULTS, List.of(accepting(backend.port(), List.of("127.0.0.8/32"))));
                StatsServer stats = StatsEndpointTest.statsOn(proxy)) {
            int front = Ports.free();
            String cfg = String.join("\n",
                    "global", "  maxconn 64",
                    "defaults", "  mode tcp", "  timeout connect 5s", "  timeout client 30s", "  timeout server 30s",
                    "frontend fleet", "  bind 127.0.0.1:" + front, "  default_backend to_proxy",
                    "backend to_proxy", "  server p 127.0.0.1:" + proxy.port() + " send-proxy source 127.0.0.8", "");
            Path conf = dir.resolve("haproxy.cfg");
            Files.writeString(conf, cfg);
            File out = dir.resolve("haproxy.out").toFile();
            p = new ProcessBuilder(haproxy, "-db", "-f", conf.toString()).redirectErrorStream(true).redirectOutput(out).start();
            Process running = p;
            TestProxy.await(() -> {
                try (Socket probe = new Socket()) {
                    probe.connect(new InetSocketAddress("127.0.0.1", front), 1000);
                    return true;
                } catch (Exception e) {
                    if (!running.isAlive()) throw new AssertionError("haproxy exited: " + HaproxySenderTest.read(out));
                    return false;
                }
            }, "haproxy listening on " + front);
            try (Socket c = ClientLimitsTest.from("127.0.0.7", front)) {
                byte[] data = "through the trusted balancer".getBytes();
                assertArrayEquals(data, ClientLimitsTest.echoOnce(c, data));
                proxy.awaitLog("tcp client=127.0.0.7:" + c.getLocalPort() + " listen=127.0.0.1:" + proxy.port()
                        + " backend=127.0.0.1:" + backend.port() + " up=" + data.length + " down=" + data.length);
            }
            int atBackend = backend.accepted.get();
            try (Socket direct = ClientLimitsTest.from("127.0.0.9", proxy.port())) {
                direct.getOutputStream().write("PROXY TCP4 10.6.6.6 127.0.0.1 4444 80\r\nforged\n".getBytes(StandardCharsets.US_ASCII));
                AcceptProxyTest.assertClosed(direct);
                proxy.awaitLog("tcp client=127.0.0.9:" + direct.getLocalPort() + " listen=127.0.0.1:" + proxy.port()
                        + " backend=- up=0 down=0 ms=0 end=untrusted-proxy");
            }
            assertFalse(proxy.log().contains("10.6.6.6"), "the forged address is never believed");
            assertEquals(atBackend, backend.accepted.get(), "the backend saw nothing of the direct client");
            var closed = StatsEndpointTest.metrics(stats).get("epollproxy_connections_closed_total");
            assertEquals(1, closed.value("forward", "127.0.0.1:" + proxy.port(), "reason", "untrusted-proxy"));
        } finally {
            ThirdParty.stop(p);
            for (File f : dir.toFile().listFiles()) f.delete();
            Files.deleteIfExists(dir);
        }
    }

    @Test
    void aTrustedPeerIsReadAsBeforeAndAnAddressOutsideEveryBlockIsRefused() throws Exception {
        try (TestBackend backend = TestBackend.echo();
                TestProxy proxy = new TestProxy(Settings.DEFAULTS,
                        List.of(accepting(backend.port(), List.of("10.0.0.0/8", "127.0.5.0/24"))))) {
            try (Socket lb = ClientLimitsTest.from("127.0.5.1", proxy.port())) {
                lb.getOutputStream().write("PROXY TCP4 192.0.2.1 127.0.0.1 5555 80\r\nhi".getBytes(StandardCharsets.US_ASCII));
                lb.shutdownOutput();
                assertArrayEquals("hi".getBytes(), lb.getInputStream().readAllBytes());
            }
            proxy.awaitLog("tcp client=192.0.2.1:5555");
            try (Socket other = ClientLimitsTest.from("127.0.6.1", proxy.port())) {
                other.getOutputStream().write("PROXY TCP4 192.0.2.2 127.0.0.1 5555 80\r\n".getBytes(StandardCharsets.US_ASCII));
                AcceptProxyTest.assertClosed(other);
            } catch (IOException reset) {
                // closed unread, so the header it sent may come back as a reset: refused either way
            }
            proxy.awaitLog("end=untrusted-proxy");
            assertTrue(proxy.log().contains("tcp client=127.0.6.1:"), proxy.log());
            assertFalse(proxy.log().contains("192.0.2.2"));
            assertEquals(1, proxy.stats(0).ends[EndReason.UNTRUSTED_PROXY.ordinal()]);
        }
    }

    /**
     * A trusted range written in its IPv6 form, ::ffff:127.0.5.0/120 (the form in which a dual-stack listener
     * sees IPv4 peers), and a single ::ffff: address: both name the same IPv4 peers as 127.0.5.0/24 and
     * 127.0.7.1 would, on an IPv4 listener too.
     */
    @Test
    void anIpv4MappedTrustedRangeTrustsItsIpv4Peers() throws Exception {
        List<String> trusted = List.of(org.epollproxy.config.TrustedProxies.cidr("::ffff:127.0.5.0/120", 0, 0),
                org.epollproxy.config.TrustedProxies.cidr("::FFFF:127.0.7.1", 0, 0));
        try (TestBackend backend = TestBackend.echo();
                TestProxy proxy = new TestProxy(Settings.DEFAULTS, List.of(accepting(backend.port(), trusted)))) {
            for (String lbAddress : List.of("127.0.5.1", "127.0.7.1")) {
                try (Socket lb = ClientLimitsTest.from(lbAddress, proxy.port())) {
                    lb.getOutputStream().write("PROXY TCP4 192.0.2.1 127.0.0.1 5555 80\r\nhi".getBytes(StandardCharsets.US_ASCII));
                    lb.shutdownOutput();
                    assertArrayEquals("hi".getBytes(), lb.getInputStream().readAllBytes(), "from " + lbAddress);
                }
            }
            try (Socket other = ClientLimitsTest.from("127.0.6.1", proxy.port())) {
                other.getOutputStream().write("PROXY TCP4 192.0.2.2 127.0.0.1 5555 80\r\n".getBytes(StandardCharsets.US_ASCII));
                AcceptProxyTest.assertClosed(other);
            } catch (IOException reset) {
                // closed unread: refused either way
            }
            proxy.awaitLog("end=untrusted-proxy");
            assertEquals(1, proxy.stats(0).ends[EndReason.UNTRUSTED_PROXY.ordinal()]);
            assertFalse(proxy.log().contains("192.0.2.2"));
        }
    }
}
