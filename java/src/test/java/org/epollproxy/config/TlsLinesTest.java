package org.epollproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The config file's TLS lines become the command-line options they stand for; malformed ones name the line. */
class TlsLinesTest {

    @Test
    void tlsLinesReadAsTheirOptions() throws Exception {
        Config c = ConfigParser.parse(String.join("\n",
                "0.0.0.0 443 127.0.0.1 8080",
                "tls-cert 0.0.0.0 443 /etc/ssl/a.pem /etc/ssl/a.key   # default",
                "tls-cert 0.0.0.0 443 \"/etc/ssl/with blank.pem\" /etc/ssl/b.key",
                "tls-alpn 0.0.0.0 443 h2,http/1.1",
                "tls-client-ca-optional 0.0.0.0 443 /etc/ssl/ca.pem",
                ":: 6379 redis.internal 6380",
                "backend-tls :: 6379",
                "backend-tls :: 6379 redis.internal",
                "backend-ca :: 6379 /etc/ssl/internal.pem", ""), "proxy.conf");
        List<String> got = new ArrayList<>();
        for (String[] o : c.tls()) got.add(o[0] + " " + o[1]);
        assertEquals(List.of("--tls-cert 0.0.0.0:443:/etc/ssl/a.pem:/etc/ssl/a.key", "--tls-cert 0.0.0.0:443:/etc/ssl/with blank.pem:/etc/ssl/b.key",
                "--tls-alpn 0.0.0.0:443:h2,http/1.1", "--tls-client-ca-optional 0.0.0.0:443:/etc/ssl/ca.pem", "--backend-tls [::]:6379",
                "--backend-tls [::]:6379:redis.internal", "--backend-ca [::]:6379:/etc/ssl/internal.pem"), got);
        assertEquals(2, c.rules().size(), "TLS lines are not forwards");
    }

    @Test
    void malformedTlsLinesNameTheLineAndTheForm() {
        SpecException e = assertThrows(SpecException.class, () -> ConfigParser.parse("tls-cert 0.0.0.0 443 /a.pem\n", "p.conf"));
        assertEquals(1, e.line());
        assertTrue(e.getMessage().contains("expected \"tls-cert bindaddress bindport CERT KEY\""), e.getMessage());
        SpecException port = assertThrows(SpecException.class, () -> ConfigParser.parse("\ntls-alpn 0.0.0.0 https h2\n", "p.conf"));
        assertEquals(2, port.line());
        assertTrue(port.getMessage().contains("'https' is not a port number"), port.getMessage());
        SpecException extra = assertThrows(SpecException.class, () -> ConfigParser.parse("backend-tls 127.0.0.1 6379 a b\n", "p.conf"));
        assertTrue(extra.getMessage().contains("expected \"backend-tls bindaddress bindport [NAME]\""), extra.getMessage());
    }
}
