package org.epollproxy.config;

import static org.epollproxy.config.SpecGen.forSeeds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The rinetd config parser under attack: whatever the file holds, it returns a config or throws
 * {@link SpecException} naming a line of the file and a column inside that line; never another
 * exception, never a hang. Valid files parse to the rules that were written.
 */
class ConfigParserPropertyTest {

    @Test
    void validFilesParseToTheRulesWritten() {
        forSeeds(3000, seed -> {
            ConfigGen gen = new ConfigGen(seed);
            Config c = ParserChecks.configFile(gen.text);
            assertTrue(c != null, "a valid file was rejected:\n" + gen.text);
            List<Rule> rules = c.rules();
            assertEquals(gen.expected.size(), rules.size(), gen.text);
            for (int i = 0; i < rules.size(); i++) {
                assertEquals(gen.expected.get(i), rules.get(i).spec(), "rule " + i + " of:\n" + gen.text);
            }
        });
    }

    @Test
    void mutatedFilesAreRejectedCleanly() {
        forSeeds(5000, seed -> {
            SpecGen g = new SpecGen(seed);
            ParserChecks.configFile(g.mutate(g.mutate(new ConfigGen(seed).text)));
        });
    }

    @Test
    void randomLinesAreRejectedCleanly() {
        forSeeds(3000, seed -> {
            SpecGen g = new SpecGen(seed);
            StringBuilder sb = new StringBuilder();
            int n = g.random().nextInt(6);
            for (int i = 0; i < n; i++) sb.append(g.noise(60)).append(i % 2 == 0 ? "\n" : "\r\n");
            ParserChecks.configFile(sb.toString());
        });
    }

    @Test
    void hugeLinesAreRejectedWithoutAHang() {
        SpecGen.bounded(() -> {
            ParserChecks.configFile("0 80 h 81 [" + "[".repeat(100_000));
            ParserChecks.configFile("0 80 h 81 [" + "timeout=1,".repeat(20_000) + "]");
            ParserChecks.configFile("allow " + "*".repeat(100_000));
            ParserChecks.configFile("\"".repeat(100_000));
            ParserChecks.configFile("0 80 h 81\n".repeat(20_000));
        });
    }
}
