package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A load balancer sends its PROXY v1 line and the client's first bytes in one segment: the proxy reads them
 * in one recv, and all of the client's bytes belong to the client even when they outnumber --preread-max
 * (the cap bounds what is read to decide, not what was read already). Real sockets, real loop.
 */
class PrereadAfterProxyHeaderTest {

    @Test
    void clientBytesThatCameWithTheHeaderAreAllForwardedEvenPastThePrereadCap() throws Exception {
        PrereadLimits tiny = new PrereadLimits(8, 10_000, 2_000);
        byte[] header = RouteTest.ascii("PROXY TCP4 203.0.113.9 192.0.2.1 5555 80\r\n");
        byte[] request = RouteTest.ascii("GET /a-path-long-enough HTTP/1.1\r\nHost: example.org\r\n\r\n");
        byte[] both = Arrays.copyOf(header, header.length + request.length);
        System.arraycopy(request, 0, both, header.length, request.length);
        try (TestBackend http = TestBackend.echo(); TestBackend def = TestBackend.echo();
                TestProxy proxy = new TestProxy(Settings.DEFAULTS, List.of(RouteTest.listener(def.port(), tiny, ProxyProtocol.OFF, true,
                        "proto:http", http.port())))) {
            assertArrayEquals(request, RouteTest.exchange(proxy, both), "every byte of the request reached the backend and came back");
            assertEquals(1, http.accepted.get());
            assertEquals(0, def.accepted.get());
        }
    }
}
