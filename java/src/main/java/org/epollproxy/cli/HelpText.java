package org.epollproxy.cli;

/**
 * The words of {@code --help} and of the man page around the options: what the proxy does, the synopsis,
 * the option headings, and the end (endpoints, output, signals, exit status, examples). Every line fits
 * in 80 columns and every example is a whole command, so it can be copied as it is (InputErrorsIT checks
 * both). The options' own lines are their {@code @Option} descriptions, laid out by {@link HelpLayout}.
 */
final class HelpText {
    static final String[] DESCRIPTION = {
            "epoll-proxy forwards TCP connections and UDP datagrams from local ports to",
            "backends, with one non-blocking epoll event loop per thread. It reads rinetd's",
            "config files, balances over several backends with health checks, speaks the",
            "PROXY protocol, serves Prometheus metrics and restarts without refusing a",
            "connection.",
            "",
    };

    static final String[] SYNOPSIS = {
            "Usage: epoll-proxy [OPTIONS] -L [BIND:]PORT:HOST:HOSTPORT[,HOST:PORT...] ...",
            "       epoll-proxy [OPTIONS] -U [BIND:]PORT:HOST:HOSTPORT ...",
            "       epoll-proxy [OPTIONS] --config FILE",
            "",
            "A forward is ssh -L's [BIND:]PORT:HOST:HOSTPORT. BIND defaults to 127.0.0.1;",
            "0.0.0.0 (or *) accepts other machines. IPv6 goes in brackets: [::1]:90:[::1]:80.",
            "PORT 0 picks a free port. A UNIX socket path (it holds a '/') may stand for",
            "[BIND:]PORT or for HOST:HOSTPORT. More backends follow a comma.",
            "",
    };

    /** Each row: a heading, then the options under it (any one of an option's names), in order. */
    static final String[][] GROUPS = {
            {"Forwards", "-L", "-U", "--config", "--unix-mode"},
            {"Connections", "--connect-timeout", "--idle-timeout", "--fin-timeout", "--keepalive",
                "--max-connections", "--buffer-size"},
            {"Clients", "--max-connections-per-client", "--client-rate", "--client-table-size"},
            {"UDP", "--udp-timeout", "--udp-max-sessions"},
            {"Balancing and health", "--balance", "--max-fails", "--fail-timeout", "--check", "--rise", "--fall",
                "--check-send", "--check-expect", "--slow-start", "--resolve-interval", "--resolver"},
            {"Routes", "--route", "--preread-max", "--preread-timeout", "--route-ssh-wait"},
            {"TLS", "--tls-cert", "--tls-alpn", "--tls-client-ca", "--tls-client-ca-optional", "--tls-handshake-timeout",
                "--backend-tls", "--backend-ca", "--backend-cert"},
            {"PROXY protocol", "--send-proxy", "--accept-proxy", "--accept-proxy-from", "--accept-proxy-timeout"},
            {"Performance", "--threads", "--splice", "--pipe-size", "--io-uring", "--warmup"},
            {"Operation", "--stats", "--drain-timeout", "--control", "--takeover", "--trace", "--quiet",
                "--help", "--version"},
    };

    /** The sections after the options; each starts with its heading line (the man page's section name). */
    static final String[][] FOOTER_SECTIONS = {
        {
            "Endpoints of --stats (HTTP, one request per connection):",
            "  /             the status page, for a browser",
            "  /metrics      Prometheus text: forwards, loops, backends, the process",
            "  /connections  JSON: every open connection, its state, bytes and buffers",
            "  /backends     JSON: every backend, up or down and why, its counters",
            "  /healthz      200 ok; 503 if a loop is stuck or died, or while draining",
            "  /livez        200 ok; 503 if a loop is stuck or died (not when draining)",
        },
        {
            "Output:",
            "  stdout: 'listening tcp 127.0.0.1:9000 -> 127.0.0.1:8000' once every forward is",
            "  bound. stderr: one line per connection when it ends:",
            "    2026-11-26T06:17:03.484Z tcp client=127.0.0.1:34340 listen=127.0.0.1:9000",
            "    backend=127.0.0.1:8000 up=78 down=801 ms=2 end=backend-closed",
            "  up/down: bytes client->backend / backend->client; end: why it ended",
            "  (client-closed, backend-refused, connect-timeout, idle-timeout, ...).",
            "  Run-time control of backends: epoll-proxy ctl --help.",
        },
        {
            "Signals:",
            "  SIGTERM drains (stop accepting, let open connections finish for up to",
            "  --drain-timeout, then exit 0); SIGINT, or a second SIGTERM, stops now (open",
            "  connections are reset, exit 0 within 2 s); SIGHUP re-reads --config.",
        },
        {
            "Exit status:",
            "  0 after SIGTERM or SIGINT; 1 if starting failed (address in use, permission",
            "  denied, unknown host); 2 for a usage error (nothing listens then); 70 if an",
            "  event loop died (its one stderr line says which and why).",
        },
        {
            "Examples:",
            "  epoll-proxy -L 9000:127.0.0.1:8000          # loopback only",
            "  epoll-proxy -L 0.0.0.0:80:10.0.0.5:8080      # expose an internal web server",
            "  epoll-proxy -U 5353:10.0.0.53:53             # UDP, e.g. DNS",
            "  epoll-proxy --config /etc/rinetd.conf        # rinetd's file, unchanged",
            "  epoll-proxy -L 9000:127.0.0.1:8000 --trace   # watch every event and syscall",
            "  epoll-proxy -L 2375:/var/run/docker.sock     # TCP in front of a UNIX socket",
            "  epoll-proxy -L /run/app.sock:10.0.0.5:80     # a UNIX socket in front of TCP",
            "  epoll-proxy -L 80:app1:80,app2:80,app3:80 --balance leastconn --check 2s",
            "  epoll-proxy -L 0.0.0.0:443:10.0.0.5:443 --threads 2 --splice \\",
            "      --send-proxy v2 --stats 9100",
            "  epoll-proxy -L 0.0.0.0:80:10.0.0.5:80 --accept-proxy \\",
            "      --max-connections-per-client 50          # behind a network load balancer",
            "  epoll-proxy -L *:443:127.0.0.1:8443 \\",
            "      --route *:443:proto:ssh=127.0.0.1:22     # SSH and HTTPS on one port",
            "  epoll-proxy --route *:443:sni:a.example.com=10.0.0.5:443 \\",
            "      --route *:443:sni:b.example.com=10.0.0.6:443   # two TLS sites, by name",
            "  epoll-proxy ctl --control /run/ep.sock drain 10.0.0.3:80   # see ctl --help",
        },
    };

    static final String[] FOOTER = footer();

    private static String[] footer() {
        java.util.List<String> lines = new java.util.ArrayList<>();
        for (String[] section : FOOTER_SECTIONS) {
            lines.addAll(java.util.List.of(section));
            lines.add("");
        }
        lines.add("More: man epoll-proxy, and docs/ in the source tree.");
        return lines.toArray(new String[0]);
    }

    private HelpText() {}
}
