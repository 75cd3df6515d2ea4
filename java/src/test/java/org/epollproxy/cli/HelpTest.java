package org.epollproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** {@code --help}: what the program does first, options under headings, nothing cut mid-word or at column 0. */
class HelpTest {
    static List<String> helpLines() {
        MainInputTest.Outcome o = MainInputTest.run(List.of("--help"));
        assertEquals(0, o.status(), o.err());
        return o.out().lines().toList();
    }

    @Test
    void itSaysWhatItDoesBeforeTheUsageAndTheUsageIsShort() {
        List<String> lines = helpLines();
        assertTrue(lines.get(0).startsWith("epoll-proxy forwards TCP connections"), lines.get(0));
        int usage = lines.indexOf(lines.stream().filter(l -> l.startsWith("Usage:")).findFirst().orElseThrow());
        assertTrue(usage > 0 && usage < 10, "the usage comes after the description: line " + usage);
        int firstHeading = lines.indexOf("Forwards:");
        assertTrue(firstHeading > usage && firstHeading - usage < 12, "a short usage block, then the options");
    }

    @Test
    void everyOptionIsUnderAHeadingAndNoLineFallsToColumnZero() {
        List<String> lines = helpLines();
        int start = lines.indexOf("Forwards:");
        int end = lines.indexOf(lines.stream().filter(l -> l.startsWith("Endpoints")).findFirst().orElseThrow());
        List<String> headings = new ArrayList<>();
        for (String[] g : HelpText.GROUPS) headings.add(g[0] + ":");
        headings.add(HelpLayout.OTHER_HEADING + ":");
        for (String l : lines.subList(start, end)) {
            if (l.isEmpty()) continue;
            assertTrue(l.startsWith("  ") || headings.contains(l), "a line at column 0 among the options: " + l);
        }
        CommandLine cl = new CommandLine(new Main(System.out, System.err));
        Map<String, List<OptionSpec>> groups = HelpLayout.groups(cl.getCommandSpec());
        int shown = groups.values().stream().mapToInt(List::size).sum();
        assertEquals(cl.getCommandSpec().options().size(), shown, "every option once");
        String text = String.join("\n", lines.subList(start, end));
        for (OptionSpec o : cl.getCommandSpec().options()) {
            assertTrue(text.contains(o.longestName() + " ") || text.contains(o.longestName() + "\n"), o.longestName());
        }
    }

    @Test
    void everyLineFitsIn80Columns() {
        for (String l : helpLines()) assertTrue(l.length() <= HelpLayout.MAX_WIDTH, "longer than 80 columns: " + l);
    }

    @Test
    void everyEndpointIsNamed() {
        String all = String.join("\n", helpLines());
        for (String endpoint : List.of("/metrics", "/connections", "/backends", "/healthz", "/livez")) {
            assertTrue(all.contains("  " + endpoint + " "), endpoint + " in --help");
        }
    }

    @Test
    void wrappingNeverCutsAWordAndHoldsToTheWidth() {
        String text = "-L /run/a.sock:/run/b.sock and [::1]:9000:[::1]:8000 must stay whole, as must "
                + "a-very-long-token-that-is-longer-than-the-width-of-the-column-itself.";
        for (int width = 20; width <= 60; width += 7) {
            List<String> lines = HelpLayout.wrap(text, width);
            assertEquals(text, String.join(" ", lines), "words kept whole and in order at width " + width);
            for (String l : lines) assertTrue(l.length() <= width || !l.contains(" "), "over " + width + ": " + l);
        }
        CommandLine cl = new CommandLine(new Main(System.out, System.err));
        String narrow = HelpLayout.render(HelpLayout.groups(cl.getCommandSpec()), 60);
        for (String l : narrow.split("\n")) {
            assertTrue(l.length() <= 60 || !l.trim().contains(" "), "over 60 columns: " + l);
        }
        assertFalse(narrow.contains("/run/b.sock"), "(the options themselves hold no example paths)");
    }
}
