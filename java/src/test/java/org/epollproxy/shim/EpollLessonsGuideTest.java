package org.epollproxy.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.epollproxy.loop.EventLoop;
import org.junit.jupiter.api.Test;

/**
 * Keeps docs/epoll-lessons.md true: every {@code Class#method} it names exists (a lesson test, or the
 * proxy's code it says relies on the lesson), every lesson test (each {@code @Test} of an
 * {@link EpollLesson}) is named in it, and every line it quotes in a block marked {@code java Class#method}
 * is a line of that class's source.
 */
class EpollLessonsGuideTest {
    private static final Pattern REFERENCE = Pattern.compile("`([A-Z][A-Za-z0-9]*)#([a-z][A-Za-z0-9]*)`");
    private static final Pattern QUOTE = Pattern.compile("(?s)```java ([A-Z][A-Za-z0-9]*)#[a-z][A-Za-z0-9]*\\n(.*?)```");

    private final String guide;
    private final Map<String, Class<?>> classes = new HashMap<>();
    private final Set<String> ambiguous = new TreeSet<>();

    EpollLessonsGuideTest() throws IOException, URISyntaxException {
        guide = Files.readString(moduleDir().resolve("../docs/epoll-lessons.md"));
        for (Class<?> anchor : List.of(EventLoop.class, EpollLessonsGuideTest.class)) {
            Path root = Path.of(anchor.getProtectionDomain().getCodeSource().getLocation().toURI());
            try (Stream<Path> files = Files.walk(root)) {
                for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".class") && !p.toString().contains("$"))::iterator) {
                    String name = root.relativize(f).toString().replace('/', '.').replaceAll("\\.class$", "");
                    String simple = name.substring(name.lastIndexOf('.') + 1);
                    try {
                        Class<?> c = Class.forName(name, false, getClass().getClassLoader());
                        if (classes.put(simple, c) != null) ambiguous.add(simple);
                    } catch (ClassNotFoundException | LinkageError e) {
                        // a class that cannot load is no lesson and no reference target
                    }
                }
            }
        }
    }

    private static Path moduleDir() {
        return Path.of(System.getProperty("basedir", "."));
    }

    /** Every `Class#method` of the guide. */
    private Set<String> references() {
        Set<String> refs = new LinkedHashSet<>();
        Matcher m = REFERENCE.matcher(guide);
        while (m.find()) refs.add(m.group(1) + "#" + m.group(2));
        return refs;
    }

    @Test
    void everyClassAndMethodTheGuideNamesExists() {
        List<String> missing = new ArrayList<>();
        for (String ref : references()) {
            String simple = ref.substring(0, ref.indexOf('#'));
            String method = ref.substring(ref.indexOf('#') + 1);
            Class<?> c = classes.get(simple);
            if (c == null) missing.add(ref + " (no class " + simple + ")");
            else if (ambiguous.contains(simple)) missing.add(ref + " (two classes are named " + simple + ")");
            else if (!declares(c, method)) missing.add(ref + " (" + c.getName() + " has no method " + method + ")");
        }
        assertTrue(references().size() > 30, "the guide names its lessons as `Class#method`: " + references().size());
        assertEquals(List.of(), missing, "docs/epoll-lessons.md names what does not exist");
    }

    @Test
    void everyLessonTestIsInTheGuide() {
        Set<String> refs = references();
        List<String> lessons = new ArrayList<>();
        for (Class<?> c : classes.values()) {
            if (!EpollLesson.class.isAssignableFrom(c) || Modifier.isAbstract(c.getModifiers())) continue;
            for (Method m : c.getDeclaredMethods()) {
                if (m.isAnnotationPresent(Test.class)) lessons.add(c.getSimpleName() + "#" + m.getName());
            }
        }
        List<String> absent = new ArrayList<>(lessons);
        absent.removeAll(refs);
        assertTrue(lessons.size() >= 40, "the lessons were found: " + lessons.size());
        assertEquals(List.of(), absent, "lesson tests that docs/epoll-lessons.md does not teach");
    }

    @Test
    void everyQuotedLineIsInTheSourceItQuotes() throws IOException {
        Matcher m = QUOTE.matcher(guide);
        int quotes = 0;
        List<String> wrong = new ArrayList<>();
        while (m.find()) {
            quotes++;
            Class<?> c = classes.get(m.group(1));
            assertTrue(c != null, "a quote from an unknown class " + m.group(1));
            String source = Files.readString(sourceOf(c));
            for (String line : m.group(2).split("\n")) {
                String t = line.trim();
                if (!t.isEmpty() && !t.equals("...") && !source.contains(t)) wrong.add(m.group(1) + ": " + t);
            }
        }
        assertTrue(quotes >= 10, "the guide quotes its lessons: " + quotes);
        assertEquals(List.of(), wrong, "quoted lines that are not (or no longer) in the source");
    }

    private static Path sourceOf(Class<?> c) {
        String rel = c.getName().replace('.', '/') + ".java";
        Path test = moduleDir().resolve("src/test/java").resolve(rel);
        return Files.exists(test) ? test : moduleDir().resolve("src/main/java").resolve(rel);
    }

    private static boolean declares(Class<?> c, String method) {
        for (Class<?> k = c; k != null; k = k.getSuperclass()) {
            for (Method m : k.getDeclaredMethods()) if (m.getName().equals(method)) return true;
        }
        return false;
    }
}
