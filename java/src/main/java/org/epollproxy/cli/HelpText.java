package org.epollproxy.cli;

/**
 * The end of {@code --help}: what the proxy prints, its signals and exit status, and examples. Every
 * line fits in 80 columns, so an example can be copied as it is (MainInputTest checks the width).
 */
final class HelpText {
    static final String[] FOOTER = {
            "",
            "Output:",
            "  stdout  one line per forward once all are bound, e.g.",
            "            listening tcp 127.0.0.1:9000 -> 127.0.0.1:8000",
            "          and with --stats:",
            "            listening http 127.0.0.1:9100 /metrics /connections /backends /healthz",
            "  stderr  one line per connection (UDP: per session) when it ends, e.g.",
            "            2026-11-26T06:17:03.484Z tcp client=127.0.0.1:34340",
            "            listen=127.0.0.1:9000 backend=127.0.0.1:8000 up=78 down=801",
            "            ms=2 end=backend-closed",
            "          up/down: bytes client->backend / backend->client. end: client-closed,",
            "          backend-closed, backend-refused, backend-unreachable, connect-timeout,",
            "          client-reset, backend-reset, idle-timeout, fin-timeout, denied,",
            "          not-allowed, bad-proxy-header, client-limit, evicted (UDP), shutdown,",
            "          no-backend (all marked down), error. A UNIX socket end is named by its",
            "          path (an unnamed client: unix). A backend marked down or up again: one line:",
            "            backend 10.0.0.3:80 of 0.0.0.0:80 down: 3 consecutive connect failures ...",
            "",
            "Signals: SIGTERM drains (stop accepting, let open connections finish for up to",
            "  --drain-timeout, then exit 0); SIGINT, or a second SIGTERM, stops now (open",
            "  connections are reset, exit 0 within 2 s); SIGHUP re-reads --config.",
            "Exit status: 0 after SIGTERM or SIGINT; 1 if starting failed (address in use,",
            "permission denied, unknown host); 2 for a usage error (nothing listens then);",
            "70 if an event loop died (its one stderr line says which and why).",
            "",
            "Examples (each fits in 80 columns, so it can be copied as it is):",
            "  epoll-proxy -L 9000:127.0.0.1:8000          # loopback only",
            "  epoll-proxy -L 0.0.0.0:80:10.0.0.5:8080      # expose an internal web server",
            "  epoll-proxy -U 5353:10.0.0.53:53             # UDP, e.g. DNS",
            "  epoll-proxy --config /etc/rinetd.conf        # rinetd's file, unchanged",
            "  epoll-proxy -L 9000:127.0.0.1:8000 --trace   # watch every event and syscall",
            "  epoll-proxy -L 80:app1:80,app2:80,app3:80 --balance leastconn --check 2s",
            "  epoll-proxy -L 0.0.0.0:443:10.0.0.5:443 --threads 2 --splice \\",
            "      --send-proxy v2 --stats 9100",
            "  epoll-proxy -L 2375:/var/run/docker.sock     # TCP in front of a UNIX socket",
            "  epoll-proxy -L 0.0.0.0:80:10.0.0.5:80 --accept-proxy \\",
            "      --max-connections-per-client 50          # behind a network load balancer",
            "  epoll-proxy -L *:443:127.0.0.1:8443 \\",
            "      --route *:443:proto:ssh=127.0.0.1:22     # SSH and HTTPS on one port",
            "  epoll-proxy --route *:443:sni:a.example.com=10.0.0.5:443 \\",
            "      --route *:443:sni:b.example.com=10.0.0.6:443   # two TLS sites, by name",
    };

    private HelpText() {}
}
