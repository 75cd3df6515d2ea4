package org.epollproxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.epollproxy.cli.Main;
import org.junit.jupiter.api.Test;

/**
 * The manual's promises that a reader (or a script) relies on: the README keeps the two commands CI and
 * newcomers copy, stays short, and every relative link in it and in docs/ leads to a file that exists.
 */
class DocsTest {
    private static final Path ROOT = Path.of("..");
    static final String BUILD_AND_RUN =
            "bin/setup && mvn -B -q -pl java -DskipTests package && bin/epoll-proxy -L 9000:127.0.0.1:8000";
    static final String TEST = "bin/setup && mvn -B verify";
    /** "A few hundred lines at most": the rest belongs in docs/. */
    private static final int README_MAX_LINES = 300;
    private static final Pattern LINK = Pattern.compile("\\]\\(([^)#\\s]+)(#[^)]*)?\\)");

    @Test
    void theReadmeKeepsTheTwoCommandsWordForWord() throws IOException {
        List<String> lines = Files.readAllLines(ROOT.resolve("README.md"));
        assertTrue(lines.contains("    " + BUILD_AND_RUN), "README: the build-and-run command, as a code line");
        assertTrue(lines.contains("    " + TEST), "README: the test command, as a code line");
        assertTrue(lines.size() < README_MAX_LINES, "README.md has " + lines.size() + " lines");
    }

    @Test
    void everyOptionOfTheHelpIsDocumentedInTheUsersGuide() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
        assertEquals(0, Main.run(new String[] {"--help"}, ps, ps));
        TreeSet<String> options = new TreeSet<>();
        Matcher m = Pattern.compile("(?m)^ {2,6}(?:-\\w, )?(--[a-z][a-z-]+)").matcher(out.toString(StandardCharsets.UTF_8));
        while (m.find()) options.add(m.group(1));
        assertTrue(options.size() > 30, "parsed the help: " + options);
        options.removeAll(List.of("--help", "--version"));
        StringBuilder docs = new StringBuilder();
        try (Stream<Path> s = Files.list(ROOT.resolve("docs"))) {
            for (Path p : s.filter(p -> p.toString().endsWith(".md")).toList()) docs.append(Files.readString(p));
        }
        List<String> missing = options.stream().filter(o -> !docs.toString().contains("`" + o)).toList();
        assertEquals(List.of(), missing, "options --help lists that no docs/ page explains (write them in the page of their task)");
    }

    @Test
    void everyRelativeLinkLeadsToAFile() throws IOException {
        List<Path> pages = new ArrayList<>(List.of(ROOT.resolve("README.md")));
        try (Stream<Path> s = Files.list(ROOT.resolve("docs"))) {
            s.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        assertTrue(pages.size() > 10, "docs/ holds the user's guide");
        List<String> broken = new ArrayList<>();
        for (Path page : pages) {
            Matcher m = LINK.matcher(Files.readString(page));
            while (m.find()) {
                String target = m.group(1);
                if (target.contains("://") || target.startsWith("mailto:")) continue;
                if (!Files.exists(page.getParent().resolve(target))) broken.add(ROOT.relativize(page) + ": " + target);
            }
        }
        assertEquals(List.of(), broken, "links to files that do not exist");
    }
}
