package org.epollproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.io.File;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.epollproxy.Ports;
import org.epollproxy.forward.ThirdParty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * --accept-proxy on a TLS-terminating listener, through the real jar: a real haproxy in front (mode tcp,
 * send-proxy-v2, from 127.0.0.8) puts its header before the client's ClientHello, and the connection is
 * served with the client haproxy announced; a client that starts with its ClientHello, no header first, is
 * refused at its first byte (end=bad-proxy-header), its hello never taken for a header or a header for TLS.
 */
class AcceptProxyTlsIT {
    @TempDir
    Path dir;

    @Test
    void theHeaderComesBeforeTheClientHelloAndAHelloWithoutOneIsRefused() throws Exception {
        String haproxy = ThirdParty.require("haproxy", "haproxy");
        TlsIT.certificate(dir, "srv.example", false);
        try (ServerSocket backend = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            Thread t = new Thread(() -> {
                try (Socket c = backend.accept()) {
                    c.getInputStream().read(new byte[4096]); // the request: one read is enough for curl's few lines
                    c.getOutputStream().write("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n".getBytes(StandardCharsets.US_ASCII));
                } catch (Exception e) {
                    // the test fails on curl's answer
                }
            });
            t.setDaemon(true);
            t.start();
            int port = Ports.free();
            int front = Ports.free();
            Files.writeString(dir.resolve("haproxy.cfg"), String.join("\n",
                    "global", "  maxconn 64",
                    "defaults", "  mode tcp", "  timeout connect 5s", "  timeout client 30s", "  timeout server 30s",
                    "frontend fe", "  bind 127.0.0.1:" + front, "  default_backend to_proxy",
                    "backend to_proxy", "  server p 127.0.0.1:" + port + " send-proxy-v2 source 127.0.0.8", ""));
            File out = dir.resolve("haproxy.out").toFile();
            Process h = new ProcessBuilder(haproxy, "-db", "-f", dir.resolve("haproxy.cfg").toString())
                    .redirectErrorStream(true).redirectOutput(out).start();
            try (JarProcess p = new JarProcess(List.of(TlsIT.LATE_JIT), "--accept-proxy", "--accept-proxy-from", "127.0.0.8",
                    "-L", port + ":127.0.0.1:" + backend.getLocalPort(),
                    "--tls-cert", port + ":" + dir.resolve("srv.example.crt") + ":" + dir.resolve("srv.example.key"))) {
                TlsReloadIT.line(p);
                TlsProxyHeaderReadersIT.awaitListening(h, front, out);
                RouteIT.Result r = TlsIT.curl(dir, "srv.example", front);
                assertEquals("ok\n", r.output(), "through haproxy: " + Files.readString(out.toPath()));
                TlsIT.awaitLine(p, port, "tcp client=127.0.0.1:"); // curl, as announced; haproxy is 127.0.0.8

                // Straight to the proxy, from the trusted address, with no header: the ClientHello is refused.
                RouteIT.Result direct = RouteIT.run(dir, RouteIT.program("curl"), "-sS", "--max-time", "30", "--interface", "127.0.0.8",
                        "--resolve", "srv.example:" + port + ":127.0.0.1", "--cacert", "srv.example.crt", "https://srv.example:" + port + "/");
                assertNotEquals(0, direct.status(), direct.output());
                TlsIT.awaitLine(p, port, "end=bad-proxy-header why=\"not a PROXY protocol header (first byte 0x16)\"");
            } finally {
                ThirdParty.stop(h);
            }
        }
    }
}
