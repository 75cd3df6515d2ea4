package org.epollproxy.cli;

import static org.epollproxy.cli.BalanceIT.ask;
import static org.epollproxy.cli.ConfigReloadIT.awaitErr;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.epollproxy.Ports;
import org.epollproxy.dns.TinyDnsServer;
import org.junit.jupiter.api.Test;

/** A --route whose backend is a name follows the name's address through the real jar, as a -L backend does. */
class RouteResolveIT {

    @Test
    void aRoutesBackendNameFollowsItsAddress() throws Exception {
        int port = Ports.free();
        int bport = Ports.free();
        try (TinyDnsServer dns = new TinyDnsServer(); DynamicBackendsIT.Tagged two = new DynamicBackendsIT.Tagged("two", "127.0.0.2", bport);
                DynamicBackendsIT.Tagged three = new DynamicBackendsIT.Tagged("three", "127.0.0.3", bport)) {
            dns.set("app.test", "127.0.0.2");
            try (JarProcess p = new JarProcess("--route", port + ":any=app.test:" + bport, "--resolver", dns.address(),
                    "--resolve-interval", "1s", "--quiet")) {
                p.nextLine(); // listening
                assertEquals("two:x", ask(port, "x"));
                dns.set("app.test", "127.0.0.3");
                awaitErr(p, "resolve: app.test: [127.0.0.3] (was [127.0.0.2])");
                awaitErr(p, "resolve: backends updated: 0 added, 0 removed, 1 changed");
                assertEquals("three:x", ask(port, "x"), "the route's new address");
            }
        }
    }
}
