package org.epollproxy.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Port names, as rinetd accepts them ({@code 0.0.0.0 http 10.0.0.2 8080}): read once from
 * /etc/services (getservbyname's source), with a few common names built in for systems without it.
 */
final class Services {
    private static final Map<String, Integer> BUILT_IN = Map.ofEntries(
            Map.entry("ftp", 21), Map.entry("ssh", 22), Map.entry("telnet", 23), Map.entry("smtp", 25),
            Map.entry("domain", 53), Map.entry("http", 80), Map.entry("pop3", 110), Map.entry("imap", 143),
            Map.entry("snmp", 161), Map.entry("https", 443), Map.entry("imaps", 993), Map.entry("pop3s", 995),
            Map.entry("mysql", 3306), Map.entry("postgresql", 5432));

    private static volatile Map<String, Integer> table;

    /** The port for {@code name} and {@code proto} ("tcp"/"udp"), or -1. */
    static int lookup(String name, String proto) {
        Map<String, Integer> t = table;
        if (t == null) table = t = load(Path.of("/etc/services"));
        Integer p = t.get(name.toLowerCase(Locale.ROOT) + "/" + proto);
        if (p == null) p = BUILT_IN.get(name.toLowerCase(Locale.ROOT));
        return p == null ? -1 : p;
    }

    static Map<String, Integer> load(Path file) {
        Map<String, Integer> m = new HashMap<>();
        try {
            for (String raw : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                int hash = raw.indexOf('#');
                String[] f = (hash >= 0 ? raw.substring(0, hash) : raw).trim().split("\\s+");
                if (f.length < 2) continue;
                int slash = f[1].indexOf('/');
                if (slash < 0) continue;
                int port;
                try {
                    port = Integer.parseInt(f[1].substring(0, slash));
                } catch (NumberFormatException e) {
                    continue;
                }
                String proto = f[1].substring(slash + 1).toLowerCase(Locale.ROOT);
                for (int i = 0; i < f.length; i++) {
                    if (i == 1) continue;
                    m.putIfAbsent(f[i].toLowerCase(Locale.ROOT) + "/" + proto, port);
                }
            }
        } catch (IOException e) {
            // no /etc/services: the built-in names still work
        }
        return m;
    }

    private Services() {}
}
