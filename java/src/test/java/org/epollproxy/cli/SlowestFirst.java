package org.epollproxy.cli;

import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.ClassDescriptor;
import org.junit.jupiter.api.ClassOrderer;
import org.junit.jupiter.api.ClassOrdererContext;

/**
 * The order in which failsafe hands the process tests to its three threads: the classes that take longest
 * first, the others after them in JUnit's default order. In the default order alone the two longest came
 * last, and the phase ended with one of them running alone for half a minute. A class missing from the
 * list only runs later; the list is by the classes' times in target/failsafe-reports (2026-12-05).
 */
public final class SlowestFirst implements ClassOrderer {
    static final List<String> SLOWEST = List.of("AotCacheIT", "DynamicBackendsIT", "CommandLineIT", "TlsRefusalsIT", "ZeroDowntimeIT",
            "TlsIT", "InputErrorsIT", "LauncherIT", "BalanceIT", "RouteIT", "OperatorLinesIT", "UnixSocketIT");

    @Override
    public void orderClasses(ClassOrdererContext context) {
        context.getClassDescriptors().sort(Comparator.comparingInt(SlowestFirst::rank)); // stable: the rest keep their order
    }

    private static int rank(ClassDescriptor d) {
        int i = SLOWEST.indexOf(d.getTestClass().getSimpleName());
        return i < 0 ? SLOWEST.size() : i;
    }
}
