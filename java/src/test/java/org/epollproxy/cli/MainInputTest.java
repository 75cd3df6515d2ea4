package org.epollproxy.cli;

import static org.epollproxy.config.SpecGen.forSeeds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.epollproxy.config.ParserChecks;
import org.epollproxy.config.SpecGen;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input on the command line or in a config file gets one clear message and a usage exit status,
 * never a stack trace. Random options and values are always joined by a -L or config file that does
 * not parse, so no run gets as far as listening (or resolving a name).
 */
class MainInputTest {
    private static final String[] OPTIONS = {"--buffer-size", "--connect-timeout", "--idle-timeout", "--fin-timeout",
        "--udp-timeout", "--udp-max-sessions", "--max-connections", "--threads", "--send-proxy", "--keepalive", "--splice",
        "--quiet", "--trace", "-U", "--bogus", "-x", "--", "-L", "--accept-proxy", "--accept-proxy-timeout",
        "--max-connections-per-client", "--client-rate", "--client-table-size", "--unix-mode"};

    record Outcome(int status, String out, String err) {}

    static Outcome run(List<String> args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args.toArray(new String[0]), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Outcome(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static void assertCleanUsageError(Outcome o, List<String> args) {
        assertEquals(2, o.status(), "exit status for " + args + "\nstderr: " + o.err());
        assertTrue(o.err().startsWith("epoll-proxy: "), "one message naming the program: " + o.err());
        assertFalse(o.err().contains("\tat ") || o.err().contains("Exception"), "no stack trace: " + o.err());
    }

    @Test
    void randomOptionsWithABadForwardAreAUsageErrorWithoutAStackTrace() {
        forSeeds(400, seed -> {
            SpecGen g = new SpecGen(seed);
            Random r = g.random();
            List<String> args = new ArrayList<>();
            int n = r.nextInt(6);
            for (int i = 0; i < n; i++) {
                args.add(OPTIONS[r.nextInt(OPTIONS.length)]);
                if (r.nextBoolean()) args.add(r.nextBoolean() ? g.noise(12) : Integer.toString(r.nextInt(200_000) - 100));
            }
            String bad;
            do {
                bad = g.mutate(g.spec().format());
            } while (ParserChecks.forwardSpec(bad) != null);
            args.add(r.nextInt(args.size() + 1), "-L" + (r.nextBoolean() ? "" : "=") + bad);
            assertCleanUsageError(run(args), args);
        });
    }

    @Test
    void aBadConfigFileIsAUsageErrorNamingTheLineWithoutAStackTrace(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("bad.conf");
        forSeeds(300, seed -> {
            SpecGen g = new SpecGen(seed);
            String text = g.mutate("0 8080 127.0.0.1 80 [timeout=5]\nallow 10.0.0.0/8\nlogfile /tmp/x.log\n");
            if (ParserChecks.configFile(text) != null) return; // still valid: it would start a proxy
            try {
                Files.writeString(file, text, StandardCharsets.UTF_8);
            } catch (java.io.IOException e) {
                throw new AssertionError(e);
            }
            List<String> args = List.of("--config", file.toString());
            Outcome o = run(args);
            assertCleanUsageError(o, args);
            assertTrue(o.err().contains(file.toString() + ":"), "names the file and line: " + o.err());
        });
    }

    @Test
    void badValuesOfTheNewOptionsNameTheOption() {
        String[][] cases = {
            {"--client-rate", "10"}, {"--client-rate", "0/1"}, {"--client-rate", "5/0"}, {"--client-rate", "x/y"},
            {"--unix-mode", "999"}, {"--unix-mode", "rw"}, {"--max-connections-per-client", "-1"},
            {"--client-table-size", "0"}, {"--accept-proxy-timeout", "0"},
        };
        for (String[] c : cases) {
            List<String> args = List.of(c[0], c[1], "-L", "9000:127.0.0.1:80");
            Outcome o = run(args);
            assertCleanUsageError(o, args);
            assertTrue(o.err().contains(c[0]), "the message names " + c[0] + ": " + o.err());
        }
        List<String> udp = List.of("-U", "9000:/run/x.sock");
        Outcome o = run(udp);
        assertCleanUsageError(o, udp);
        assertTrue(o.err().contains("TCP forwards (-L) only"), o.err());
    }

    /** Issue 22, item 7: 0 (no permission bits at all) is an octal mode like any other; four digits at most. */
    @Test
    void unixModeZeroIsAcceptedAndTooManyDigitsAreNot() {
        for (String ok : new String[] {"0", "00", "000", "0000", "600", "0660", "7"}) {
            ClientArgs a = new ClientArgs();
            new picocli.CommandLine(a).parseArgs("--unix-mode", ok);
            assertEquals(null, a.problem(), ok);
            assertEquals(Integer.parseInt(ok, 8), a.applyTo(org.epollproxy.forward.Settings.builder()).build().unixMode(), ok);
        }
        for (String bad : new String[] {"00000", "1000", "8", "-1", ""}) {
            ClientArgs a = new ClientArgs();
            new picocli.CommandLine(a).parseArgs("--unix-mode", bad);
            assertTrue(a.problem() != null && a.problem().contains("from 0 to 0777"), bad + ": " + a.problem());
        }
    }

    /**
     * The buffer size the CLI gives every forward and the one Settings holds for the embedded proxy agree:
     * 32 KiB, the smallest size that did not lose bulk throughput in bench/compare.sh (README "Buffer size").
     */
    @Test
    void theDefaultBufferIs32KiBInTheHelpAndInSettings() {
        Outcome o = run(List.of("--help"));
        assertEquals(0, o.status(), o.err());
        assertTrue(o.out().replaceAll("\\s+", " ").contains("default: 32k"), o.out());
        assertEquals(32 * 1024, org.epollproxy.forward.Settings.DEFAULTS.bufferSize());
    }
}
