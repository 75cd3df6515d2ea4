package org.epollproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Bad input through the real jar: one clear line and exit 2, never a stack trace, never a silent guess. */
class InputErrorsIT {

    /** Each option given a value in digits that are not ASCII, and what the error says of it. */
    static final String[][] NON_ASCII_DIGITS = {
        {"--threads", "\u0662", "'\u0662' is not a number (digits 0-9 only)"},
        {"--udp-max-sessions", "\u0664", "'\u0664' is not a number (digits 0-9 only)"},
        {"--connect-timeout", "\u0661\u0660\u0660", "is not a duration"},
        {"--buffer-size", "\u0666\u0664k", "'\u0666\u0664k' is not a size: digits 0-9"},
    };

    static Stream<Arguments> nonAsciiDigits() {
        return Arrays.stream(NON_ASCII_DIGITS).map(c -> Arguments.of((Object[]) c));
    }

    /** The two lines of aBarePortIsTcpOnEitherSideSoOneUdpPortIsAMixedLine, each a file of its own. */
    static final String[] MIXED = {"127.0.0.1 0 127.0.0.1 1/udp", "127.0.0.1 0/udp 127.0.0.1 1"};

    @TempDir
    static Path dir;
    /** Every run of this class ends by itself: all started together, each checked by its test below. */
    private static OneShots runs;

    @BeforeAll
    static void runThemTogether() throws Exception {
        runs = new OneShots();
        for (String[] c : NON_ASCII_DIGITS) runs.start(c[0], "-L", "0:127.0.0.1:9", c[0], c[1]);
        runs.start("--thread", "-L", "0:127.0.0.1:9", "--thread", "2");
        runs.start("--send-proxy off", "-L", "0:127.0.0.1:9", "--send-proxy", "off");
        runs.start("/dev/zero", "--config", "/dev/zero");
        Path latin1 = dir.resolve("latin1.conf");
        Files.write(latin1, "# ok\n# caf\u00e9\n127.0.0.1 0 127.0.0.1 9\n".getBytes(StandardCharsets.ISO_8859_1));
        runs.start("latin1", "--config", latin1.toString());
        for (int i = 0; i < MIXED.length; i++) {
            Path f = dir.resolve("mixed" + i + ".conf");
            Files.writeString(f, MIXED[i] + "\n");
            runs.start("mixed " + i, "--config", f.toString());
        }
        StringBuilder conf = new StringBuilder();
        for (int i = 0; i < 600; i++) conf.append("127.1.").append(i / 250).append('.').append(i % 250 + 1).append(" 0 127.0.0.1 9\n");
        Path many = dir.resolve("many.conf");
        Files.writeString(many, conf);
        runs.add("fd limit", () -> JarProcess.withFdLimit(512, "--config", many.toString()));
        JarProcess.help(); // the one --help of this JVM, meanwhile
        runs.awaitAll();
    }

    @AfterAll
    static void endTheRuns() {
        if (runs != null) runs.close();
    }

    private static void assertUsageError(JarProcess p, String message) throws InterruptedException {
        assertEquals(2, p.exitCode(30), p.stderr());
        String err = p.stderr();
        assertTrue(err.contains(message), "says what is wrong: " + err);
        assertFalse(err.contains("\tat ") || err.contains("Exception") || err.contains("Error:"), "no stack trace: " + err);
        assertEquals(0, p.stdout.size(), "nothing listens");
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("nonAsciiDigits")
    void optionValuesTakeAsciiDigitsOnlyAsPortsDo(String option, String value, String message) throws Exception {
        assertUsageError(runs.get(option), message);
    }

    @Test
    void aMistypedOptionIsNamedAloneWithPicoclisSuggestion() throws Exception {
        JarProcess p = runs.get("--thread");
        assertUsageError(p, "unknown option '--thread'");
        assertFalse(p.stderr().contains("'2'"), "the value is not an unknown option: " + p.stderr());
        assertTrue(p.stderr().contains("--threads"), "suggests the option meant: " + p.stderr());
    }

    @Test
    void sendProxyHelpAndErrorAgree() throws Exception {
        JarProcess.Help help = JarProcess.help();
        assertEquals(0, help.exit());
        assertTrue(String.join("\n", help.stdout()).contains("--send-proxy v1|v2"), String.join("\n", help.stdout()));
        assertUsageError(runs.get("--send-proxy off"), "--send-proxy: expected v1 or v2, not \"off\"");
    }

    @Test
    void helpFitsIn80ColumnsSoEveryExampleCanBeCopiedWhole() throws Exception {
        JarProcess.Help help = JarProcess.help();
        assertEquals(0, help.exit());
        List<String> lines = new ArrayList<>(help.stdout());
        for (String l : lines) assertTrue(l.length() <= 80, "longer than 80 columns: " + l);
        int examples = lines.indexOf(lines.stream().filter(l -> l.startsWith("Examples")).findFirst().orElseThrow());
        boolean continued = false;
        for (String l : lines.subList(examples + 1, lines.size())) {
            if (l.isBlank()) break;
            // each line is a whole command, or the continuation of one that ended in a backslash
            assertTrue(continued ? l.startsWith("      --") : l.startsWith("  epoll-proxy "), "a broken example line: " + l);
            continued = l.endsWith("\\");
        }
    }

    @Test
    void anEndlessConfigIsRefusedAtTheLimitNotWithOutOfMemory() throws Exception {
        assertUsageError(runs.get("/dev/zero"), "/dev/zero: the file is too large to be a configuration: more than 16777216 bytes");
    }

    @Test
    void aConfigThatIsNotUtf8NamesTheLine() throws Exception {
        assertUsageError(runs.get("latin1"), dir.resolve("latin1.conf") + ":2: the file is not UTF-8 text: byte 0xe9");
    }

    @Test
    void aBarePortIsTcpOnEitherSideSoOneUdpPortIsAMixedLine() throws Exception {
        for (int i = 0; i < MIXED.length; i++) assertUsageError(runs.get("mixed " + i), "mixed protocols");
    }

    @Test
    void forwardsThatCannotFitInTheFdLimitAreRefusedBeforeAnyBind() throws Exception {
        JarProcess p = runs.get("fd limit"); // 600 forwards, under ulimit -n 512
        assertEquals(1, p.exitCode(30), p.stderr());
        assertTrue(p.stderr().contains("600 forwards on 1 thread(s) need 600 listening sockets")
                && p.stderr().contains("the limit (RLIMIT_NOFILE) is 512"), p.stderr());
        assertEquals(0, p.stdout.size(), "nothing listens");
    }
}
