package org.epollproxy.bench;

import java.util.concurrent.TimeUnit;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.Shim;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** The cost of one trivial shim call through jnr-ffi (a function that does no syscall). */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class ShimCallBench {
    private Kernel k;

    @Setup
    public void setup() {
        k = Shim.load();
    }

    @Benchmark
    public int shimNoSyscall() {
        return k.sizeof_addr();
    }
}
