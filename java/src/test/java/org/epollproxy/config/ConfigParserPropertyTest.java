package org.epollproxy.config;

import static org.epollproxy.cli.SpecGen.forSeeds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.epollproxy.cli.ForwardSpec;
import org.epollproxy.cli.ParserChecks;
import org.epollproxy.cli.SpecGen;
import org.junit.jupiter.api.Test;

/**
 * The rinetd config parser under attack: whatever the file holds, it returns a config or throws
 * {@link SpecException} naming a line of the file and a column inside that line; never another
 * exception, never a hang. Valid files parse to the rules that were written.
 */
class ConfigParserPropertyTest {

    static Config parseChecked(String text) {
        return ParserChecks.configFile(text);
    }

    /** A hang fails the test instead of the build: every check here runs far below this bound. */
    private static void bounded(Runnable checks) {
        assertTimeoutPreemptively(Duration.ofMinutes(2), checks::run);
    }

    @Test
    void validFilesParseToTheRulesWritten() {
        bounded(() -> forSeeds(3000, seed -> {
            ConfigGen gen = new ConfigGen(seed);
            Config c = parseChecked(gen.text);
            assertTrue(c != null, "a valid file was rejected:\n" + gen.text);
            List<Rule> rules = c.rules();
            assertEquals(gen.expected.size(), rules.size(), gen.text);
            for (int i = 0; i < rules.size(); i++) {
                assertEquals(gen.expected.get(i), rules.get(i).spec(), "rule " + i + " of:\n" + gen.text);
            }
        }));
    }

    @Test
    void mutatedFilesAreRejectedCleanly() {
        bounded(() -> forSeeds(5000, seed -> {
            SpecGen g = new SpecGen(seed);
            parseChecked(g.mutate(g.mutate(new ConfigGen(seed).text)));
        }));
    }

    @Test
    void randomLinesAreRejectedCleanly() {
        bounded(() -> forSeeds(3000, seed -> {
            SpecGen g = new SpecGen(seed);
            StringBuilder sb = new StringBuilder();
            int n = g.random().nextInt(6);
            for (int i = 0; i < n; i++) sb.append(g.noise(60)).append(i % 2 == 0 ? "\n" : "\r\n");
            parseChecked(sb.toString());
        }));
    }

    @Test
    void hugeLinesAreRejectedWithoutAHang() {
        bounded(() -> {
            parseChecked("0 80 h 81 [" + "[".repeat(100_000));
            parseChecked("0 80 h 81 [" + "timeout=1,".repeat(20_000) + "]");
            parseChecked("allow " + "*".repeat(100_000));
            parseChecked("\"".repeat(100_000));
            parseChecked("0 80 h 81\n".repeat(20_000));
        });
    }
}
