package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.epollproxy.shim.SockAddr;
import org.epollproxy.stats.StatsServer;
import org.junit.jupiter.api.Test;

/**
 * /metrics for the new ends: the per-client table's size, client-limit and bad-proxy-header ends by
 * reason, a UNIX listener labelled by its path; and a reset from a TCP client reaching a UNIX backend.
 */
class EndsMetricsTest {

    @Test
    void theClientTableAndTheNewEndReasonsAreInMetricsAndAUnixListenerIsNamedByItsPath() throws Exception {
        Path dir = Files.createTempDirectory("ends-metrics");
        Path sock = dir.resolve("m.sock");
        try (TestBackend backend = TestBackend.echo();
                TestProxy proxy = new TestProxy(Settings.builder().maxPerClient(1).build(), List.of(
                        TestProxy.tcpForwards(backend.port()).get(0),
                        new Forward(Forward.Proto.TCP, SockAddr.parse("127.0.0.1", 0), List.of(TestProxy.backend(backend.port())),
                                AccessRules.ALLOW_ALL, -1, null, "accepting", ProxyProtocol.OFF, true),
                        new Forward(Forward.Proto.TCP, SockAddr.unix(sock.toString()), List.of(TestProxy.backend(backend.port())),
                                AccessRules.ALLOW_ALL, -1, null, "unix", ProxyProtocol.OFF, false)));
                StatsServer stats = StatsEndpointTest.statsOn(proxy)) {
            Socket held = ClientLimitsTest.from("127.0.0.5", proxy.port(0));
            TestProxy.await(() -> backend.accepted.get() == 1, "the first connection at the backend");
            try (Socket over = ClientLimitsTest.from("127.0.0.5", proxy.port(0))) {
                assertEquals(-1, over.getInputStream().read());
            }
            try (Socket bad = ClientLimitsTest.from("127.0.0.6", proxy.port(1))) {
                bad.getOutputStream().write("HELLO\r\n".getBytes());
                AcceptProxyTest.assertClosed(bad);
            }
            proxy.awaitLog("end=bad-proxy-header");
            Map<String, PrometheusParser.Family> m = StatsEndpointTest.metrics(stats);
            PrometheusParser.Family closed = m.get("epollproxy_connections_closed_total");
            assertEquals(1, closed.value("forward", "127.0.0.1:" + proxy.port(0), "reason", "client-limit"));
            assertEquals(1, closed.value("forward", "127.0.0.1:" + proxy.port(1), "reason", "bad-proxy-header"));
            assertEquals(0, m.get("epollproxy_connections_active").value("forward", sock.toString()));
            assertEquals(1, m.get("epollproxy_client_table_addresses").value());
            assertEquals(65536, m.get("epollproxy_client_table_capacity").value());
            held.close();
        } finally {
            Files.deleteIfExists(sock);
            Files.deleteIfExists(dir);
        }
    }

    @Test
    void aTcpClientsResetReachesAUnixBackendAsAnAbort() throws Exception {
        Path dir = Files.createTempDirectory("ends-rst");
        Path sock = dir.resolve("b.sock");
        var server = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX);
        server.bind(java.net.UnixDomainSocketAddress.of(sock));
        try (server; TestProxy proxy = new TestProxy(Settings.DEFAULTS, List.of(new Forward(SockAddr.parse("127.0.0.1", 0),
                List.of(new Backend(sock.toString(), SockAddr.unix(sock.toString()))))))) {
            Socket c = proxy.connect();
            c.getOutputStream().write("x".getBytes());
            try (var b = server.accept()) {
                java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(8);
                b.read(buf);
                c.setSoLinger(true, 0);
                c.close(); // RST
                proxy.awaitLog("end=client-reset errno=ECONNRESET");
                buf.clear();
                int n;
                try {
                    n = b.read(buf);
                } catch (IOException e) {
                    n = -2; // reset: what a UNIX socket can say of an abort
                }
                assertEquals(true, n < 0, "the backend saw its connection end, not more bytes");
            }
        } finally {
            Files.deleteIfExists(sock);
            Files.deleteIfExists(dir);
        }
    }
}
