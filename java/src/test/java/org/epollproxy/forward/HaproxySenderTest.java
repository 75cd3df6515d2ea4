package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.io.File;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.epollproxy.Ports;
import org.epollproxy.shim.SockAddr;
import org.junit.jupiter.api.Test;

/**
 * --accept-proxy with real headers from a real sender: haproxy (a process on loopback with a generated
 * config) forwards to this proxy with send-proxy (v1), send-proxy-v2, and send-proxy-v2 with a CRC32C record
 * (which the parser checks); the log line must name the test's
 * own client socket, the address haproxy announced, not haproxy's.
 */
class HaproxySenderTest {

    @Test
    void haproxySendProxyV1AndV2AnnounceTheRealClient() throws Exception {
        String haproxy = ThirdParty.require("haproxy", "haproxy");
        Path dir = Files.createTempDirectory("haproxy");
        Process p = null;
        try (TestBackend backend = TestBackend.echo();
                TestProxy proxy = new TestProxy(Settings.DEFAULTS, List.of(new Forward(Forward.Proto.TCP, SockAddr.parse("127.0.0.1", 0),
                        List.of(TestProxy.backend(backend.port())), AccessRules.ALLOW_ALL, -1, null, "accepting", ProxyProtocol.OFF, true)))) {
            int v1 = Ports.free();
            int v2 = Ports.free();
            int v2crc = Ports.free();
            String cfg = String.join("\n",
                    "global", "  maxconn 64",
                    "defaults", "  mode tcp", "  timeout connect 5s", "  timeout client 30s", "  timeout server 30s",
                    "frontend v1", "  bind 127.0.0.1:" + v1, "  default_backend to_proxy_v1",
                    "frontend v2", "  bind 127.0.0.1:" + v2, "  default_backend to_proxy_v2",
                    "frontend v2crc", "  bind 127.0.0.1:" + v2crc, "  default_backend to_proxy_v2crc",
                    "backend to_proxy_v1", "  server p 127.0.0.1:" + proxy.port() + " send-proxy",
                    "backend to_proxy_v2", "  server p 127.0.0.1:" + proxy.port() + " send-proxy-v2",
                    "backend to_proxy_v2crc", "  server p 127.0.0.1:" + proxy.port() + " send-proxy-v2 proxy-v2-options crc32c", "");
            Path conf = dir.resolve("haproxy.cfg");
            Files.writeString(conf, cfg);
            File out = dir.resolve("haproxy.out").toFile();
            p = new ProcessBuilder(haproxy, "-db", "-f", conf.toString()).redirectErrorStream(true).redirectOutput(out).start();
            Process running = p;
            for (int port : new int[] {v1, v2, v2crc}) {
                TestProxy.await(() -> {
                    try (Socket probe = new Socket()) {
                        probe.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                        return true;
                    } catch (Exception e) {
                        if (!running.isAlive()) throw new AssertionError("haproxy exited: " + read(out));
                        return false;
                    }
                }, "haproxy listening on " + port);
            }
            for (int port : new int[] {v1, v2, v2crc}) {
                try (Socket c = new Socket()) {
                    c.bind(new InetSocketAddress("127.0.0.7", 0)); // a source only the header can tell
                    c.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                    c.setSoTimeout(10_000);
                    byte[] data = ("through haproxy " + port).getBytes();
                    c.getOutputStream().write(data);
                    c.shutdownOutput();
                    assertArrayEquals(data, c.getInputStream().readAllBytes());
                    proxy.awaitLog("tcp client=127.0.0.7:" + c.getLocalPort() + " listen=127.0.0.1:" + proxy.port()
                            + " backend=127.0.0.1:" + backend.port() + " up=" + data.length + " down=" + data.length);
                }
            }
        } finally {
            ThirdParty.stop(p);
            for (File f : dir.toFile().listFiles()) f.delete();
            Files.deleteIfExists(dir);
        }
    }

    static String read(File f) {
        try {
            return Files.readString(f.toPath());
        } catch (Exception e) {
            return "(no output)";
        }
    }
}
