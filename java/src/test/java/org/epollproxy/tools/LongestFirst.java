package org.epollproxy.tools;

import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.ClassDescriptor;
import org.junit.jupiter.api.ClassOrderer;
import org.junit.jupiter.api.ClassOrdererContext;
import org.junit.jupiter.api.Order;

/**
 * The order in which test classes start on the threads of their test JVM (four for the unit tests, three for
 * the process tests): by {@link Order} first (the fuzz run's start, then the simulation; the fuzz run's result
 * last), then the classes that take longest, then the others in JUnit's default order. In the default order
 * some of the longest started in the second half of their phase, and the phase ended on them alone. A class
 * missing from its list only starts later; the lists are by the classes' times in target/surefire-reports
 * and target/failsafe-reports of whole runs (2026-12-05). The two phases never meet, so one ranking serves
 * both. (The {@code @Isolated} classes run one by one after all the others whatever their place here.)
 */
public final class LongestFirst implements ClassOrderer {
    static final List<String> LONGEST = List.of("StatusPageTest", "SpliceTest", "ShutdownOrderTest", "MainInputTest",
            "HealthCheckTest", "IntegrityTest", "DrainAcceptQueueTest", "WarmupFixedTimeTest", "StatsEndpointTest",
            "AccessAndLimitsTest", "SocketFileRaceTest", "BindAddressLifetimeTest", "ConfigParserPropertyTest",
            "SharedInstanceTest", "ClientLimitsTest", "TrustedProxyTest", "BalanceTest", "ConnectionsViewTest", "UdpForwardTest",
            "RouteTest", "CapacityRaceTest", "UnixSocketTest", "ControlServerStallTest", "UdpIsolationTest",
            "ReresolverRoundLockTest", "Ipv6Test");
    /**
     * The process tests (failsafe, {@code *IT}), every one of them, longest first. The pool's threads take
     * classes from the front of this order and the thread that forked them all takes them from the back (it runs
     * the last forked first while it waits for the others), so the two ends meet in the middle. A class missing from
     * here sits in the middle in the default order: WarmupIT, RouteIT and TlsReloadIT (12-15 s each) were
     * missing, started after 60 s and ended the phase alone (full runs of 2026-12-05 21:00Z).
     */
    static final List<String> LONGEST_PROCESS = List.of("AotCacheIT", "DynamicBackendsIT", "ZeroDowntimeIT", "TlsIT",
            "TlsRefusalsIT", "LauncherIT", "CommandLineIT", "RouteIT", "WarmupIT", "PackagingIT", "TlsReloadIT", "TlsTakeoverIT",
            "OperatorLinesIT", "BalanceIT", "InputErrorsIT", "LoopDeathIT", "SafeDefaultsIT", "FdLimitIT", "DrainIT",
            "ConfigReloadIT", "UnixSocketIT", "TlsProxyHeaderReadersIT", "DrainSignalsIT", "AcceptProxyTlsIT", "StartSignalsIT",
            "IdleFootprintIT", "RouteResolveIT", "EpollLessonsTraceIT", "TlsProxyHeaderIT", "LeakIT",
            "RecipesIT", "ResolveOnceIT", "ManPageIT", "DebPackageIT");

    @Override
    public void orderClasses(ClassOrdererContext context) {
        // stable: classes of equal rank keep the default order
        context.getClassDescriptors().sort(Comparator.comparingInt(LongestFirst::order).thenComparingInt(LongestFirst::rank));
    }

    private static int order(ClassDescriptor d) {
        return d.findAnnotation(Order.class).map(Order::value).orElse(Order.DEFAULT);
    }

    private static int rank(ClassDescriptor d) {
        String name = d.getTestClass().getSimpleName();
        int i = LONGEST.indexOf(name);
        if (i < 0) i = LONGEST_PROCESS.indexOf(name);
        return i < 0 ? Integer.MAX_VALUE : i;
    }
}
