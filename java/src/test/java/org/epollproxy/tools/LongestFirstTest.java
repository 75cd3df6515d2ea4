package org.epollproxy.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every process test class is in {@link LongestFirst#LONGEST_PROCESS}: one missing from it starts in the middle
 * of JUnit's default order, and a long one then ends the process-test phase alone (five were missing after
 * the reviews of 2026-12-05, one of them 14 s long).
 */
class LongestFirstTest {

    @Test
    void everyProcessTestClassHasItsPlaceInTheOrder() throws IOException {
        List<String> missing;
        try (Stream<Path> files = Files.walk(Path.of("src/test/java"))) { // surefire runs in the module's directory
            missing = files.map(f -> f.getFileName().toString())
                    .filter(n -> n.endsWith("IT.java"))
                    .map(n -> n.substring(0, n.length() - ".java".length()))
                    .filter(n -> !LongestFirst.LONGEST_PROCESS.contains(n))
                    .sorted()
                    .toList();
        }
        assertEquals(List.of(), missing, "process test classes missing from LongestFirst.LONGEST_PROCESS (place each by its time)");
    }
}
