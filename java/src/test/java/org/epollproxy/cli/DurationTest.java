package org.epollproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.epollproxy.config.Config;
import org.epollproxy.config.ConfigParser;
import org.epollproxy.config.OptionValues;
import org.epollproxy.config.SpecException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** One duration grammar for every time option: 500ms, 5s, 2m, 1h; a bare number in the option's own unit. */
class DurationTest {

    @ParameterizedTest(name = "{0} (bare unit {1} ms) = {2} ms")
    @CsvSource({
        "500ms, 1, 500", "5s, 1, 5000", "2m, 1, 120000", "1h, 1, 3600000", "500, 1, 500", "500, 1000, 500000",
        "0, 1000, 0", "0ms, 1, 0", "1ms, 1000, 1", "999999999, 1, 999999999", "999999999h, 1, 3599999996400000",
        "90s, 1000, 90000", "60m, 1, 3600000",
    })
    void theGrammarReadsEveryUnitAndTheBareNumber(String text, long bareUnit, long millis) {
        assertEquals(millis, OptionValues.duration(text, bareUnit));
    }

    @ParameterizedTest(name = "''{0}''")
    @ValueSource(strings = {"", "s", "ms", "h", "5x", "5 s", "1.5s", "-5s", "5S", "5sec", "5mss", "1000000000",
        "\u0665s", "+5s", "0x10", "5s5"})
    void anythingElseIsRefusedSayingWhatADurationIs(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OptionValues.duration(text, 1000));
        assertTrue(e.getMessage().contains("is not a duration") && e.getMessage().contains("500ms, 5s, 2m"), e.getMessage());
    }

    @Test
    void anOptionThatCountsSecondsRefusesAFraction() {
        assertEquals(2, OptionValues.seconds("2000ms"));
        assertEquals(120, OptionValues.seconds("2m"));
        assertEquals(300, OptionValues.seconds("300"));
        assertThrows(IllegalArgumentException.class, () -> OptionValues.seconds("1500ms"));
    }

    private static Main parse(String... args) {
        Main m = new Main(System.out, System.err);
        new CommandLine(m).parseArgs(args);
        return m;
    }

    @Test
    void everyTimeOptionTakesUnitsAndABareNumberKeepsItsDocumentedUnit() {
        Main m = parse("--connect-timeout", "5s", "--idle-timeout", "2m", "--fin-timeout", "1h", "--udp-timeout", "90s",
                "--drain-timeout", "30", "--accept-proxy-timeout", "500ms");
        assertEquals(5000, m.connection.connectTimeoutMs);
        assertEquals(120_000, m.connection.idleTimeoutMs);
        assertEquals(3_600_000, m.connection.finTimeoutMs);
        assertEquals(90_000, m.connection.udpTimeoutMs);
        assertEquals(30_000, m.operation.drainTimeoutMs, "a bare --drain-timeout is seconds");
        assertEquals(500, m.clientArgs.acceptProxyTimeoutMs);
        Main bare = parse("--connect-timeout", "500", "--accept-proxy-timeout", "250", "--idle-timeout", "300");
        assertEquals(500, bare.connection.connectTimeoutMs, "a bare --connect-timeout is milliseconds");
        assertEquals(250, bare.clientArgs.acceptProxyTimeoutMs, "a bare --accept-proxy-timeout is milliseconds");
        assertEquals(300_000, bare.connection.idleTimeoutMs, "a bare --idle-timeout is seconds");
        Main defaults = parse();
        assertEquals(5000, defaults.connection.connectTimeoutMs);
        assertEquals(60_000, defaults.connection.finTimeoutMs);
        assertEquals(72_000, defaults.connection.udpTimeoutMs);
        assertEquals(10_000, defaults.operation.drainTimeoutMs);
        assertEquals(3000, defaults.clientArgs.acceptProxyTimeoutMs);
        assertEquals(120_000, parse("--fail-timeout", "2m", "-L", "9:a:1").balanceArgs.toBalancing().failTimeoutMs());
        assertEquals(500_000, parse("--fail-timeout", "500").balanceArgs.toBalancing().failTimeoutMs(),
                "a bare --fail-timeout is seconds");
        assertEquals(1500, parse("--check", "1500ms").balanceArgs.toBalancing().checkIntervalMs());
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
        "--connect-timeout, 5x", "--idle-timeout, 1500ms", "--fin-timeout, soon", "--udp-timeout, 0",
        "--drain-timeout, 25h", "--accept-proxy-timeout, 0", "--fail-timeout, 5q", "--check, 0", "--connect-timeout, 0",
    })
    void aBadValueIsOneLineNamingTheOptionAndTheValue(String option, String value) {
        List<String> args = List.of("-L", "9000:127.0.0.1:80", option, value);
        MainInputTest.Outcome o = MainInputTest.run(args);
        MainInputTest.assertCleanUsageError(o, args);
        String first = o.err().lines().findFirst().orElseThrow();
        assertTrue(first.contains(option), "names the option: " + o.err());
        assertTrue(first.contains(value) || value.matches("\\d+"), "names the value: " + o.err());
        assertTrue(o.err().lines().count() <= 2, "one line, then the pointer to --help: " + o.err());
    }

    @Test
    void theConfigFilesTimeoutTakesTheSameGrammar() throws SpecException {
        Config c = ConfigParser.parse("0 53/udp 10.0.0.1 53/udp [timeout=20m]\n0 54/udp 10.0.0.1 53/udp [timeout=90]\n", "f");
        assertEquals(1200, c.rules().get(0).timeoutSec());
        assertEquals(90, c.rules().get(1).timeoutSec(), "a bare timeout= is seconds, as in rinetd");
        SpecException e = assertThrows(SpecException.class,
                () -> ConfigParser.parse("0 53/udp 10.0.0.1 53/udp [timeout=500ms]\n", "f"));
        assertTrue(e.getMessage().contains("timeout=500ms"), e.getMessage());
        Config b = ConfigParser.parse("0 80 10.0.0.1 80 [backend=10.0.0.2:80, fail_timeout=2m, check=1500ms]\n", "f");
        assertEquals(120_000, b.rules().get(0).balance().failTimeoutMs());
        assertEquals(1500, b.rules().get(0).balance().checkMs());
    }
}
