package org.epollproxy.tools;

import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.ClassDescriptor;
import org.junit.jupiter.api.ClassOrderer;
import org.junit.jupiter.api.ClassOrdererContext;
import org.junit.jupiter.api.Order;

/**
 * The order in which the unit tests' classes start on the four threads of the test JVM: by {@link Order}
 * first (the fuzz run's start, then the simulation; the fuzz run's result last), then the classes that take
 * longest, then the others in JUnit's default order. In the default order some of the longest started in
 * the second half of the run, and the phase ended on them alone. A class missing from the list only starts
 * later; the list is by the classes' times in target/surefire-reports of a whole run (2026-12-05).
 * (The {@code @Isolated} classes run one by one after all the others whatever their place here.)
 */
public final class LongestFirst implements ClassOrderer {
    static final List<String> LONGEST = List.of("StatusPageTest", "SpliceTest", "ShutdownOrderTest", "MainInputTest",
            "HealthCheckTest", "IntegrityTest", "DrainAcceptQueueTest", "WarmupFixedTimeTest", "StatsEndpointTest",
            "AccessAndLimitsTest", "SocketFileRaceTest", "BindAddressLifetimeTest", "ConfigParserPropertyTest",
            "SharedInstanceTest", "ClientLimitsTest", "TrustedProxyTest", "BalanceTest", "ConnectionsViewTest", "UdpForwardTest",
            "RouteTest", "CapacityRaceTest", "UnixSocketTest", "ControlServerStallTest", "UdpIsolationTest",
            "ReresolverRoundLockTest", "Ipv6Test");

    @Override
    public void orderClasses(ClassOrdererContext context) {
        // stable: classes of equal rank keep the default order
        context.getClassDescriptors().sort(Comparator.comparingInt(LongestFirst::order).thenComparingInt(LongestFirst::rank));
    }

    private static int order(ClassDescriptor d) {
        return d.findAnnotation(Order.class).map(Order::value).orElse(Order.DEFAULT);
    }

    private static int rank(ClassDescriptor d) {
        int i = LONGEST.indexOf(d.getTestClass().getSimpleName());
        return i < 0 ? LONGEST.size() : i;
    }
}
