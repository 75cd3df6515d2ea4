package org.epollproxy.fuzz;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;

import java.io.PrintWriter;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * The fuzz JVM's main: runs one test method on the JUnit platform (with JAZZER_FUZZ=1 in its environment,
 * a Jazzer {@code @FuzzTest} fuzzes) and exits 0 only if everything it selected ran and passed. {@link FuzzRun}
 * starts it as a process of its own, so that Jazzer's agent never enters the JVM of the other tests.
 */
public final class FuzzLauncher {
    public static void main(String[] args) {
        if (args.length != 1 || !args[0].contains("#")) {
            System.err.println("usage: FuzzLauncher CLASS#METHOD(PARAMETER TYPES)");
            System.exit(2);
        }
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        Launcher launcher = LauncherFactory.create();
        launcher.execute(LauncherDiscoveryRequestBuilder.request().selectors(selectMethod(args[0])).build(), listener);
        TestExecutionSummary summary = listener.getSummary();
        PrintWriter out = new PrintWriter(System.out, true);
        summary.printTo(out);
        summary.printFailuresTo(out, 15);
        // A fuzz test is one test per seed it replays, and one for the fuzzing: all of them must pass.
        boolean passed = summary.getTestsFoundCount() > 0
                && summary.getTestsSucceededCount() == summary.getTestsFoundCount()
                && summary.getTotalFailureCount() == 0;
        System.exit(passed ? 0 : 1);
    }
}
