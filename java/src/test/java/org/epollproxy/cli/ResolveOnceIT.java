package org.epollproxy.cli;

import static org.epollproxy.cli.ConfigReloadIT.awaitErr;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.epollproxy.Ports;
import org.epollproxy.dns.TinyDnsServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A backend name costs one lookup (an A and an AAAA query to --resolver) at start and one per reload that
 * resolves it: the answer the command line's resolution got is every address the re-resolver starts from.
 */
class ResolveOnceIT {

    @Test
    void aBackendNameIsAskedOnceAtStartAndOncePerReload(@TempDir Path dir) throws Exception {
        int port = Ports.free();
        int bport = Ports.free();
        Path conf = dir.resolve("proxy.conf");
        try (TinyDnsServer dns = new TinyDnsServer()) {
            dns.set("app.test", "127.0.0.2", "127.0.0.3");
            Files.writeString(conf, "resolver " + dns.address() + "\nresolve_interval 1h\n127.0.0.1 " + port + " app.test " + bport + "\n");
            try (JarProcess p = new JarProcess("--config", conf.toString(), "--quiet")) {
                assertEquals("listening tcp 127.0.0.1:" + port + " -> 127.0.0.2:" + bport + ",127.0.0.3:" + bport, p.nextLine());
                assertEquals(2, dns.queries.get(), "one A and one AAAA query at start, not two of each");
                p.signal("HUP");
                awaitErr(p, "0 added, 0 removed, 0 changed, 1 unchanged");
                assertEquals(4, dns.queries.get(), "the reload read the file again: one more lookup");
            }
        }
    }
}
