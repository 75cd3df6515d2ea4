package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import org.epollproxy.shim.SockAddr;
import org.junit.jupiter.api.Test;

/** IPv6 on both sides ([::1]:0:[::1]:port), and IPv4 clients reaching an IPv6 backend. */
class Ipv6Test {

    @Test
    void ipv6ListenerToIpv6Backend() throws Exception {
        InetAddress v6 = InetAddress.getByName("::1");
        try (ServerSocket backend = new ServerSocket(0, 10, v6)) {
            Thread t = new Thread(() -> {
                try (Socket s = backend.accept()) {
                    byte[] got = s.getInputStream().readAllBytes();
                    String peer = s.getInetAddress().getHostAddress();
                    s.getOutputStream().write((peer + " " + new String(got)).getBytes());
                } catch (IOException ignored) {
                    // the test fails on the client side
                }
            });
            t.setDaemon(true);
            t.start();
            Forward f = new Forward(SockAddr.parse("[::1]", 0),
                    List.of(new Backend("::1", SockAddr.parse("::1", backend.getLocalPort()))));
            try (TestProxy proxy = new TestProxy(Settings.DEFAULTS, List.of(f)); Socket c = new Socket()) {
                assertTrue(proxy.forwards.get(0).bind().isIpv6());
                assertTrue(proxy.forwards.get(0).toString().startsWith("[::1]:"), proxy.forwards.get(0).toString());
                c.connect(new InetSocketAddress(v6, proxy.port()), 5000);
                assertTrue(c.getLocalAddress() instanceof Inet6Address);
                c.getOutputStream().write("six".getBytes());
                c.shutdownOutput();
                byte[] reply = c.getInputStream().readAllBytes();
                assertTrue(new String(reply).endsWith(" six"), new String(reply));
                assertTrue(new String(reply).startsWith("0:0:0:0:0:0:0:1"), "the backend saw the proxy's ::1");
                proxy.awaitLog("client=[::1]:" + c.getLocalPort());
            }
        }
    }

    @Test
    void ipv4ClientToIpv6Backend() throws Exception {
        try (TestBackendV6 backend = new TestBackendV6()) {
            Forward f = new Forward(SockAddr.parse("127.0.0.1", 0),
                    List.of(new Backend("::1", SockAddr.parse("::1", backend.port()))));
            try (TestProxy proxy = new TestProxy(Settings.DEFAULTS, List.of(f)); Socket c = proxy.connect()) {
                c.getOutputStream().write("mixed".getBytes());
                c.shutdownOutput();
                assertArrayEquals("mixed".getBytes(), c.getInputStream().readAllBytes());
            }
        }
    }

    /** An echo backend on ::1. */
    static final class TestBackendV6 implements AutoCloseable {
        private final ServerSocket server;

        TestBackendV6() throws IOException {
            server = new ServerSocket(0, 10, InetAddress.getByName("::1"));
            Thread t = new Thread(() -> {
                try (Socket s = server.accept()) {
                    s.getOutputStream().write(s.getInputStream().readAllBytes());
                } catch (IOException ignored) {
                    // closed
                }
            });
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return server.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }
}
