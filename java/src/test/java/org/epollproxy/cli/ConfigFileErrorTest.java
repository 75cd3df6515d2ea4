package org.epollproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A --config that cannot be read says why, once, and names the path once. */
class ConfigFileErrorTest {
    private static String firstLine(List<String> args) {
        MainInputTest.Outcome o = MainInputTest.run(args);
        MainInputTest.assertCleanUsageError(o, args);
        return o.err().lines().findFirst().orElseThrow();
    }

    @Test
    void aMissingFileSaysNoSuchFileOrDirectory(@TempDir Path dir) {
        Path missing = dir.resolve("x.conf");
        assertEquals("epoll-proxy: cannot read --config " + missing + ": No such file or directory",
                firstLine(List.of("--config", missing.toString())));
    }

    @Test
    void aDirectoryAndAFileUnderAFileSayWhatTheyAre(@TempDir Path dir) throws IOException {
        assertEquals("epoll-proxy: cannot read --config " + dir + ": Is a directory",
                firstLine(List.of("--config", dir.toString())));
        Path file = Files.writeString(dir.resolve("plain"), "");
        Path under = file.resolve("x.conf");
        assertEquals("epoll-proxy: cannot read --config " + under + ": Not a directory",
                firstLine(List.of("--config", under.toString())));
    }

    @Test
    void theReasonIsStrerrorsWordsNotThePathAgain() {
        assertEquals("No such file or directory", IoErrors.reason(new NoSuchFileException("/x.conf")));
        assertEquals("Permission denied", IoErrors.reason(new AccessDeniedException("/x.conf")));
        assertEquals("Is a directory", IoErrors.reason(new IOException("Is a directory")));
    }
}
