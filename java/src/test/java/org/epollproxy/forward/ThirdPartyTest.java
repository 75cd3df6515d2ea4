package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.opentest4j.TestAbortedException;

/** A missing third-party program skips a test on a developer's machine and fails it in CI. */
class ThirdPartyTest {

    @Test
    void aMissingProgramFailsInCiAndSkipsElsewhereNamingThePackage() {
        AssertionError inCi = assertThrows(AssertionError.class, () -> ThirdParty.missing("no-such-server", "no-such-package", true));
        assertTrue(inCi.getMessage().contains("no-such-server is not installed (Debian package no-such-package; bin/setup installs it)"),
                inCi.getMessage());
        TestAbortedException skipped = assertThrows(TestAbortedException.class,
                () -> ThirdParty.missing("no-such-server", "no-such-package", false));
        assertTrue(skipped.getMessage().contains("test skipped"), skipped.getMessage());
    }
}
