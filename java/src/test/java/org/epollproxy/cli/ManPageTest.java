package org.epollproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.Model.OptionSpec;

/** epoll-proxy(1) and the completions list exactly what --help lists, under the same headings. */
class ManPageTest {
    private static final Pattern HELP_OPTION = Pattern.compile("^  ( {4})?(-[^ ]+(?:, -[^ ]+)?(?: [^ ]+)?)(?: {2,}.*)?$");

    /** "Heading:" and "-c, --config FILE" lines of --help's option list, in order. */
    static List<String> fromHelp() {
        List<String> lines = HelpTest.helpLines();
        int start = lines.indexOf("Forwards:");
        int end = lines.indexOf(lines.stream().filter(l -> l.startsWith("Endpoints")).findFirst().orElseThrow());
        List<String> out = new ArrayList<>();
        for (String l : lines.subList(start, end)) {
            Matcher m = HELP_OPTION.matcher(l);
            if (l.endsWith(":") && !l.startsWith(" ")) out.add("## " + l.substring(0, l.length() - 1));
            else if (m.matches()) out.add(m.group(2));
        }
        return out;
    }

    /** The same from the man page's OPTIONS: .SS headings and the line after each .TP. */
    static List<String> fromMan(String troff) {
        List<String> lines = troff.lines().toList();
        List<String> out = new ArrayList<>();
        int start = lines.indexOf(".SH OPTIONS");
        for (int i = start + 1; i < lines.size() && !lines.get(i).startsWith(".SH"); i++) {
            String l = lines.get(i);
            if (l.startsWith(".SS ")) out.add("## " + plain(l.substring(4)));
            if (l.equals(".TP")) out.add(plain(lines.get(i + 1)));
        }
        return out;
    }

    static String plain(String troff) {
        return troff.replace("\\fB", "").replace("\\fI", "").replace("\\fR", "").replace("\\-", "-").replace("\\e", "\\");
    }

    @Test
    void theManPageListsTheOptionsOfTheHelpInTheSameOrderUnderTheSameHeadings() {
        String troff = ManPage.troff(ManPage.command().getCommandSpec(), "test");
        List<String> help = fromHelp();
        assertTrue(help.size() > 40, "parsed the help: " + help);
        assertEquals(help, fromMan(troff));
        for (OptionSpec o : ManPage.command().getCommandSpec().options()) {
            assertTrue(troff.contains(ManPage.escape(String.join(" ", o.description()))), "its description: " + o.longestName());
        }
        for (String endpoint : List.of("/metrics", "/connections", "/backends", "/healthz", "/livez")) {
            assertTrue(troff.contains(endpoint), endpoint);
        }
    }

    @Test
    void theCompletionsOfferEveryOption() {
        String bash = ManPage.bash(ManPage.command());
        String zsh = ManPage.zsh(ManPage.command());
        assertTrue(zsh.startsWith("#compdef epoll-proxy\n") && zsh.contains("bashcompinit"), zsh.lines().limit(3).toList().toString());
        for (OptionSpec o : ManPage.command().getCommandSpec().options()) {
            for (String name : o.names()) assertTrue(bash.contains(name), "bash completes " + name);
        }
    }

    @Test
    void mainWritesAManPageThatManReadsWithoutAWarning(@TempDir Path dir) throws Exception {
        Path man = dir.resolve("man/epoll-proxy.1");
        ManPage.main(new String[] {man.toString(), dir.resolve("c/epoll-proxy").toString(), dir.resolve("c/_epoll-proxy").toString()});
        assertTrue(Files.readString(dir.resolve("c/epoll-proxy")).contains("complete -"), "a bash completion script");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/man")), "man(1) is not installed");
        ProcessBuilder pb = new ProcessBuilder("man", "--warnings", "-l", man.toString());
        pb.environment().put("MANWIDTH", "80");
        pb.environment().put("MANPAGER", "cat");
        pb.environment().put("PAGER", "cat");
        Path err = dir.resolve("err");
        Process p = pb.redirectError(err.toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "man finished");
        assertEquals(0, p.exitValue(), readQuietly(err));
        assertEquals("", readQuietly(err), "no warning from man/groff");
        assertTrue(out.contains("--connect-timeout DURATION") && out.contains("EXIT STATUS"), out);
    }

    private static String readQuietly(Path p) throws IOException {
        return Files.exists(p) ? Files.readString(p) : "";
    }
}
