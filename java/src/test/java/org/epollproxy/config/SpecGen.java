package org.epollproxy.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Inputs for the parser property and fuzz tests: valid hosts, ports and forward specs in every form
 * the grammar allows, and mutations of valid text (the inputs most likely to reach deep into a parser).
 */
public final class SpecGen {
    /** Characters that mean something to the -L and config grammars, plus a few that never should. */
    public static final String ALPHABET = "0123456789:[]*,.%/-_=#\" \tabcdefxyzABCFX\u00e9\u0000\n";

    private final Random r;

    public SpecGen(long seed) {
        this.r = new Random(seed);
    }

    public int port(boolean allowZero) {
        int p = r.nextInt(8) == 0 ? 65535 - r.nextInt(3) : 1 + r.nextInt(65535);
        return allowZero && r.nextInt(6) == 0 ? 0 : p;
    }

    public String ipv4() {
        return r.nextInt(256) + "." + r.nextInt(256) + "." + r.nextInt(256) + "." + r.nextInt(256);
    }

    /** An IPv6 literal without brackets: full, "::"-compressed, with an IPv4 tail or a zone. */
    public String ipv6() {
        switch (r.nextInt(5)) {
            case 0:
                return "::1";
            case 1:
                return "::ffff:" + ipv4();
            case 2: {
                StringBuilder sb = new StringBuilder();
                for (int i = 0; i < 8; i++) sb.append(i == 0 ? "" : ":").append(Integer.toHexString(r.nextInt(65536)));
                return sb.toString();
            }
            case 3:
                return "fe80::" + Integer.toHexString(r.nextInt(65536)) + "%eth" + r.nextInt(4);
            default:
                return Integer.toHexString(1 + r.nextInt(65535)) + "::" + Integer.toHexString(r.nextInt(65536));
        }
    }

    public String hostName() {
        String first = "abcxyzABC019_";
        String mid = "abcxyz019_.-";
        StringBuilder sb = new StringBuilder().append(first.charAt(r.nextInt(first.length())));
        int n = r.nextInt(r.nextInt(20) == 0 ? 252 : 20);
        for (int i = 0; i < n; i++) sb.append(mid.charAt(r.nextInt(mid.length())));
        if (n > 0 && sb.charAt(sb.length() - 1) == '-') sb.setCharAt(sb.length() - 1, 'z');
        return sb.toString();
    }

    /** A backend host as written in a spec (IPv6 in brackets) and as parsed (without). */
    public String[] host() {
        int k = r.nextInt(3);
        if (k == 0) {
            String a = ipv4();
            return new String[] {a, a};
        }
        if (k == 1) {
            String a = ipv6();
            return new String[] {"[" + a + "]", a};
        }
        String h = hostName();
        return new String[] {h, h};
    }

    /** A valid -L spec, built from parts, and the spec it must parse to. */
    public ForwardSpec spec() {
        String bind;
        switch (r.nextInt(4)) {
            case 0:
                bind = null;
                break;
            case 1:
                bind = "";
                break;
            default:
                bind = host()[1];
        }
        List<ForwardSpec.HostPort> backends = new ArrayList<>();
        int n = 1 + r.nextInt(r.nextInt(4) == 0 ? 5 : 1);
        for (int i = 0; i < n; i++) backends.add(new ForwardSpec.HostPort(host()[1], port(false)));
        return new ForwardSpec(r.nextBoolean() ? "tcp" : "udp", bind, port(true), backends);
    }

    /** Up to five random edits: insert, delete, replace or duplicate characters. */
    public String mutate(String s) {
        StringBuilder sb = new StringBuilder(s);
        int edits = 1 + r.nextInt(5);
        for (int e = 0; e < edits; e++) {
            int at = sb.length() == 0 ? 0 : r.nextInt(sb.length() + 1);
            char c = ALPHABET.charAt(r.nextInt(ALPHABET.length()));
            switch (r.nextInt(4)) {
                case 0:
                    sb.insert(at, c);
                    break;
                case 1:
                    if (at < sb.length()) sb.deleteCharAt(at);
                    break;
                case 2:
                    if (at < sb.length()) sb.setCharAt(at, c);
                    break;
                default:
                    int len = Math.min(sb.length() - Math.min(at, sb.length()), r.nextInt(8));
                    sb.insert(at, sb.substring(Math.min(at, sb.length()), Math.min(at, sb.length()) + len));
            }
        }
        return sb.toString();
    }

    /** Random text over {@link #ALPHABET} (and now and then any UTF-16 unit). */
    public String noise(int maxLength) {
        int n = r.nextInt(maxLength + 1);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append(r.nextInt(20) == 0 ? (char) r.nextInt(0x10000) : ALPHABET.charAt(r.nextInt(ALPHABET.length())));
        }
        return sb.toString();
    }

    public Random random() {
        return r;
    }

    /**
     * Runs {@code check} for seeds 1..count (or only {@code -Dparser.seed=N}); a failure names its seed.
     * Seeded loops rather than a property-testing library: every generator here is a function of its
     * seed, so a failing seed is the whole reproduction.
     */
    public static void forSeeds(int count, java.util.function.LongConsumer check) {
        String one = System.getProperty("parser.seed");
        long first = one != null ? Long.parseLong(one) : 1;
        long last = one != null ? first : count;
        bounded(() -> {
            for (long seed = first; seed <= last; seed++) {
                try {
                    check.accept(seed);
                } catch (AssertionError | RuntimeException e) {
                    throw new AssertionError("seed " + seed + " (re-run alone with -Dparser.seed=" + seed + "): " + e.getMessage(), e);
                }
            }
        });
    }

    /** A hang fails the test instead of the build: every check here runs far below this bound. */
    public static void bounded(Runnable checks) {
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofMinutes(2), checks::run);
    }
}
