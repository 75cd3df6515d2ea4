package org.epollproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The build wrote the man page and the completions next to the jar, from the code that was packaged. */
class ManPageIT {
    @Test
    void packageWroteTheManPageAndTheCompletions() throws Exception {
        Path target = JarProcess.jar().toAbsolutePath().getParent();
        Path man = target.resolve("man/epoll-proxy.1");
        assertTrue(Files.isRegularFile(man), man + " is built by mvn package");
        String built = Files.readString(man);
        assertTrue(built.startsWith(".TH EPOLL\\-PROXY 1 \"\" \"epoll-proxy "), built.lines().findFirst().orElse(""));
        String fresh = ManPage.troff(ManPage.command().getCommandSpec(), "x");
        assertEquals(fresh.substring(fresh.indexOf('\n')), built.substring(built.indexOf('\n')),
                "the packaged man page is this code's (apart from the version on its first line)");
        assertTrue(Files.readString(target.resolve("completion/epoll-proxy")).contains("--connect-timeout"));
        assertTrue(Files.readString(target.resolve("completion/_epoll-proxy")).startsWith("#compdef epoll-proxy"));
    }
}
