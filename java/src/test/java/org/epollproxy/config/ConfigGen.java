package org.epollproxy.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Valid rinetd-style config files, with the rules each must parse to. */
final class ConfigGen {
    final String text;
    final List<ForwardSpec> expected = new ArrayList<>();

    ConfigGen(long seed) {
        SpecGen g = new SpecGen(seed);
        Random r = g.random();
        StringBuilder sb = new StringBuilder();
        int lines = r.nextInt(12);
        for (int i = 0; i < lines; i++) {
            switch (r.nextInt(8)) {
                case 0:
                    sb.append(r.nextBoolean() ? "allow " : "deny ").append(pattern(g)).append('\n');
                    break;
                case 1:
                    sb.append(r.nextBoolean() ? "# a comment" : "").append('\n');
                    break;
                case 2:
                    sb.append(r.nextBoolean() ? "logfile /var/log/x.log" : "pidlogfile \"/run/with space.pid\"").append('\n');
                    break;
                case 3:
                    sb.append("logcommon\n");
                    break;
                default:
                    rule(g, r, sb);
            }
        }
        text = sb.toString();
    }

    private static String pattern(SpecGen g) {
        Random r = g.random();
        if (r.nextBoolean()) return "10." + r.nextInt(256) + ".0.0/" + (8 + r.nextInt(25));
        return r.nextInt(256) + "." + (r.nextBoolean() ? "*" : "1?") + ".*.*";
    }

    private void rule(SpecGen g, Random r, StringBuilder sb) {
        boolean udp = r.nextInt(3) == 0;
        String bindText;
        String bind;
        switch (r.nextInt(4)) {
            case 0:
                bindText = "0";
                bind = "0.0.0.0";
                break;
            case 1:
                bind = g.ipv6();
                bindText = r.nextBoolean() ? bind : "[" + bind + "]";
                break;
            default:
                String[] h = g.host();
                bindText = h[0];
                bind = h[1];
        }
        if (bindText.equals("0")) bind = "0.0.0.0"; // rinetd's "0", for either address
        String[] connect = g.host();
        if (connect[0].equals("0")) connect[1] = "0.0.0.0";
        int bindPort = g.port(true);
        int connectPort = g.port(false);
        String suffix = udp ? "/udp" : r.nextBoolean() ? "/tcp" : "";
        sb.append(bindText).append(r.nextBoolean() ? " " : "\t  ").append(bindPort).append(suffix).append(' ')
                .append(connect[0]).append(' ').append(connectPort).append(suffix);
        List<ForwardSpec.HostPort> backends = new ArrayList<>();
        backends.add(new ForwardSpec.HostPort(connect[1], connectPort));
        if (r.nextBoolean()) {
            List<String> opts = new ArrayList<>();
            if (r.nextBoolean()) opts.add("timeout=" + (1 + r.nextInt(100_000)));
            if (r.nextBoolean()) opts.add("src=" + g.ipv4());
            if (!udp && r.nextBoolean()) opts.add("proxy=v" + (1 + r.nextInt(2)));
            int failovers = r.nextInt(3);
            for (int i = 0; i < failovers; i++) {
                String[] h = g.host();
                int p = g.port(false);
                opts.add("failover=" + h[0] + ":" + p);
                backends.add(new ForwardSpec.HostPort(h[1], p));
            }
            if (!opts.isEmpty()) sb.append(" [").append(String.join(r.nextBoolean() ? "," : ", ", opts)).append(']');
        }
        if (r.nextBoolean()) sb.append("  # trailing comment");
        sb.append('\n');
        expected.add(new ForwardSpec(udp ? "udp" : "tcp", bind, bindPort, backends));
        if (r.nextInt(3) == 0) sb.append("allow ").append(pattern(g)).append('\n');
    }
}
