package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import java.io.IOException;
import java.net.Socket;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.epollproxy.shim.SockAddr;
import org.junit.jupiter.api.Test;

/**
 * A real server that listens only on a UNIX socket (redis-server --port 0 --unixsocket), reached through
 * the proxy over TCP by its own client (redis-cli) and by raw RESP from Java.
 */
class RedisUnixSocketTest {

    @Test
    void redisOnAUnixSocketServesItsOwnClientOverTcpThroughTheProxy() throws Exception {
        String server = ThirdParty.require("redis-server", "redis-server");
        String cli = ThirdParty.require("redis-cli", "redis-tools");
        Path dir = Files.createTempDirectory("redis");
        Path sock = dir.resolve("redis.sock");
        File out = dir.resolve("redis.out").toFile();
        Process redis = new ProcessBuilder(server, "--port", "0", "--unixsocket", sock.toString(), "--save", "", "--appendonly", "no",
                "--dir", dir.toString()).redirectErrorStream(true).redirectOutput(out).start();
        try {
            TestProxy.await(() -> {
                if (!redis.isAlive()) throw new AssertionError("redis-server exited: " + HaproxySenderTest.read(out));
                return accepts(sock);
            }, "redis-server accepting on " + sock);
            try (TestProxy proxy = new TestProxy(Settings.builder().splice(true).build(), List.of(new Forward(SockAddr.parse("127.0.0.1", 0),
                    List.of(new Backend(sock.toString(), SockAddr.unix(sock.toString()))))))) {
                try (Socket s = proxy.connect()) { // raw RESP
                    s.getOutputStream().write("*1\r\n$4\r\nPING\r\n".getBytes(StandardCharsets.US_ASCII));
                    byte[] b = new byte[7];
                    int n = s.getInputStream().readNBytes(b, 0, 7);
                    assertEquals("+PONG\r\n", new String(b, 0, n, StandardCharsets.US_ASCII));
                }
                Process set = new ProcessBuilder(cli, "-h", "127.0.0.1", "-p", Integer.toString(proxy.port()), "SET", "k", "through the proxy")
                        .redirectErrorStream(true).start();
                assertEquals("OK", new String(set.getInputStream().readAllBytes()).trim());
                Process get = new ProcessBuilder(cli, "-h", "127.0.0.1", "-p", Integer.toString(proxy.port()), "GET", "k")
                        .redirectErrorStream(true).start();
                assertEquals("through the proxy", new String(get.getInputStream().readAllBytes()).trim());
                proxy.awaitLog("backend=" + sock);
            }
        } finally {
            ThirdParty.stop(redis);
            for (File f : dir.toFile().listFiles()) f.delete();
            Files.deleteIfExists(dir);
        }
    }

    /**
     * A connect to {@code sock} succeeds: redis-server listens. Its socket file exists from bind(2) on, but
     * until listen(2) a connect is refused, and the proxy resets the client whose backend refused it.
     */
    private static boolean accepts(Path sock) {
        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(sock))) {
            return true;
        } catch (IOException e) { // not there yet, or not listening yet
            return false;
        }
    }
}
