package org.epollproxy.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * How {@code --help} is laid out: what the program does first, a one-line synopsis, the options under
 * the headings of {@link HelpText#GROUPS}, then {@link HelpText#FOOTER}. Options are rendered here, not
 * by picocli's table, so that no word is ever cut in two and no line falls back to column 0; the man
 * page ({@link ManPage}) walks the same groups, so the two list the same options.
 */
final class HelpLayout {
    /** Wider terminals still get 80 columns: long lines are hard to read, and examples stay copyable. */
    static final int MAX_WIDTH = 80;
    /** Where descriptions start; an option whose name is longer starts its description on the next line. */
    static final int DESCRIPTION_COLUMN = 28;
    static final String OTHER_HEADING = "Other options";

    private HelpLayout() {}

    /** Installs the layout on {@code cl}: section order, synopsis, grouped options, footer. */
    static void install(CommandLine cl) {
        CommandSpec spec = cl.getCommandSpec();
        spec.usageMessage().footer(HelpText.FOOTER);
        spec.usageMessage().customSynopsis(HelpText.SYNOPSIS);
        Map<String, CommandLine.IHelpSectionRenderer> sections = new LinkedHashMap<>();
        sections.put(CommandLine.Model.UsageMessageSpec.SECTION_KEY_DESCRIPTION, h -> lines(HelpText.DESCRIPTION));
        sections.put(CommandLine.Model.UsageMessageSpec.SECTION_KEY_SYNOPSIS, h -> lines(HelpText.SYNOPSIS));
        sections.put(CommandLine.Model.UsageMessageSpec.SECTION_KEY_OPTION_LIST,
                h -> render(groups(h.commandSpec()), width(h.commandSpec())));
        sections.put(CommandLine.Model.UsageMessageSpec.SECTION_KEY_FOOTER, h -> lines(HelpText.FOOTER));
        cl.setHelpSectionKeys(new ArrayList<>(sections.keySet()));
        cl.getHelpSectionMap().putAll(sections);
    }

    static int width(CommandSpec spec) {
        return Math.min(MAX_WIDTH, spec.usageMessage().width());
    }

    /** The options by heading, in {@link HelpText#GROUPS}' order; options it does not name go last. */
    static Map<String, List<OptionSpec>> groups(CommandSpec spec) {
        Map<String, List<OptionSpec>> out = new LinkedHashMap<>();
        List<OptionSpec> placed = new ArrayList<>();
        for (String[] group : HelpText.GROUPS) {
            List<OptionSpec> options = new ArrayList<>();
            for (int i = 1; i < group.length; i++) {
                OptionSpec o = spec.findOption(group[i]);
                if (o != null && !o.hidden()) options.add(o);
            }
            placed.addAll(options);
            if (!options.isEmpty()) out.put(group[0], options);
        }
        List<OptionSpec> other = new ArrayList<>();
        for (OptionSpec o : spec.options()) {
            if (!o.hidden() && !placed.contains(o)) other.add(o);
        }
        if (!other.isEmpty()) out.put(OTHER_HEADING, other);
        return out;
    }

    /** "-c, --config FILE": the names, then the parameter's label after a space. */
    static String names(OptionSpec o) {
        String names = String.join(", ", o.names());
        if (o.names().length == 1 && o.longestName().startsWith("--")) names = "    " + names; // align with -c, --x
        return o.arity().max() == 0 ? names : names + " " + o.paramLabel();
    }

    static String render(Map<String, List<OptionSpec>> groups, int width) {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, List<OptionSpec>> g : groups.entrySet()) {
            sb.append(g.getKey()).append(":\n");
            for (OptionSpec o : g.getValue()) {
                String left = "  " + names(o);
                List<String> text = wrap(String.join(" ", o.description()), width - DESCRIPTION_COLUMN);
                String indent = " ".repeat(DESCRIPTION_COLUMN);
                if (left.length() + 2 > DESCRIPTION_COLUMN) {
                    sb.append(left).append('\n');
                    for (String t : text) sb.append(indent).append(t).append('\n');
                } else {
                    for (int i = 0; i < text.size(); i++) {
                        String start = i == 0 ? left + " ".repeat(DESCRIPTION_COLUMN - left.length()) : indent;
                        sb.append(start).append(text.get(i)).append('\n');
                    }
                }
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /** Words into lines of at most {@code width} characters; a word is never split (a longer one gets its own line). */
    static List<String> wrap(String text, int width) {
        List<String> out = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String word : text.trim().split("\\s+")) {
            if (word.isEmpty()) continue;
            if (line.length() > 0 && line.length() + 1 + word.length() > width) {
                out.add(line.toString());
                line.setLength(0);
            }
            if (line.length() > 0) line.append(' ');
            line.append(word);
        }
        if (line.length() > 0 || out.isEmpty()) out.add(line.toString());
        return out;
    }

    private static String lines(String[] text) {
        return String.join("\n", text) + "\n";
    }
}
