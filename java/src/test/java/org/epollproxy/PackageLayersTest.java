package org.epollproxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The package map the README's "Where things are" table draws: every main-code package may import only
 * the packages below it in {@link #LAYERS}, and only the binding touches jffi (or jnr-ffi). Read from the
 * sources, so an arrow that runs back up fails the build instead of waiting for a reader to notice.
 */
class PackageLayersTest {
    /** Bottom to top; packages on one line are siblings and may not import each other. */
    private static final List<List<String>> LAYERS = List.of(
            List.of("shim"),
            List.of("loop"),
            List.of("config", "dns"),
            List.of("forward"),
            List.of("forward.balance", "forward.proxyproto", "forward.preread", "forward.tls"),
            List.of("forward.tcp", "forward.udp"),
            List.of("runtime"),
            List.of("stats"),
            List.of("cli"));

    private static final Path MAIN = Path.of("src/main/java/org/epollproxy");
    private static final Pattern IMPORT = Pattern.compile("^import (?:static )?([\\w.]+);", Pattern.MULTILINE);

    @Test
    void noPackageImportsOneAboveItOrASibling() throws IOException {
        List<String> wrong = new ArrayList<>();
        for (Path file : javaFiles()) {
            String pkg = packageOf(file);
            int level = level(pkg);
            assertTrue(level >= 0, pkg + " (" + file + ") is not in the layer table: add it to LAYERS and the README");
            Matcher m = IMPORT.matcher(Files.readString(file));
            while (m.find()) {
                String imported = m.group(1);
                if (!imported.startsWith("org.epollproxy.")) continue;
                String target = packageOfClass(imported.substring("org.epollproxy.".length()));
                if (target.equals(pkg)) continue;
                int t = level(target);
                if (t >= level) wrong.add(MAIN.relativize(file) + " (" + pkg + ") imports " + imported + " (" + target + ")");
            }
        }
        assertEquals(List.of(), wrong, "imports that run up or sideways");
    }

    @Test
    void onlyTheBindingTouchesJnrOrJffi() throws IOException {
        List<String> wrong = new ArrayList<>();
        for (Path file : javaFiles()) {
            if (packageOf(file).equals("shim")) continue;
            String src = Files.readString(file);
            if (src.contains("jnr.") || src.contains("com.kenai.")) wrong.add(MAIN.relativize(file).toString());
        }
        assertEquals(List.of(), wrong, "files outside shim that use jffi or jnr-ffi");
    }

    private static List<Path> javaFiles() throws IOException {
        try (Stream<Path> s = Files.walk(MAIN)) {
            return s.filter(p -> p.toString().endsWith(".java")).toList();
        }
    }

    /** "forward.tcp" for .../org/epollproxy/forward/tcp/Pair.java. */
    private static String packageOf(Path file) {
        return MAIN.relativize(file.getParent()).toString().replace('/', '.');
    }

    /** "forward.tcp" for "forward.tcp.Pair" or "shim.Epoll.EPOLLIN": the lower-case segments. */
    private static String packageOfClass(String name) {
        StringBuilder sb = new StringBuilder();
        for (String part : name.split("\\.")) {
            if (Character.isUpperCase(part.charAt(0))) break;
            if (sb.length() > 0) sb.append('.');
            sb.append(part);
        }
        return sb.toString();
    }

    private static int level(String pkg) {
        for (int i = 0; i < LAYERS.size(); i++) if (LAYERS.get(i).contains(pkg)) return i;
        return -1;
    }
}
