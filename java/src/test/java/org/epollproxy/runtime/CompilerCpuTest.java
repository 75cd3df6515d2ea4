package org.epollproxy.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JIT compiler threads' CPU from /proc/self/task: a directory of TID/stat files a test can write. */
class CompilerCpuTest {
    @TempDir
    Path tasks;

    /** A /proc/TID/stat line: utime and stime are fields 14 and 15. */
    private void thread(String tid, String name, long utime, long stime) throws IOException {
        Files.createDirectories(tasks.resolve(tid));
        Files.writeString(tasks.resolve(tid).resolve("stat"), tid + " (" + name + ") S 1 1 1 0 -1 4194368 100 0 0 0 "
                + utime + " " + stime + " 0 0 20 0 30 0 1234 0 0\n");
    }

    @Test
    void sumsTheCompilerThreadsOnly() throws IOException {
        thread("100", "java", 500, 50);
        thread("101", "C2 CompilerThre", 30, 2);
        thread("102", "C1 CompilerThre", 10, 1);
        thread("103", "epoll-loop-0", 900, 900);
        assertEquals(43, new CompilerCpu(tasks).ticks());
    }

    @Test
    void neverFallsWhenACompilerThreadEnds() throws IOException {
        thread("101", "C2 CompilerThre", 30, 0);
        thread("104", "C2 CompilerThre", 20, 0); // HotSpot adds compiler threads when its queue is long
        CompilerCpu cpu = new CompilerCpu(tasks);
        assertEquals(50, cpu.ticks());
        Files.delete(tasks.resolve("104/stat"));
        Files.delete(tasks.resolve("104")); // and ends them when idle
        assertEquals(50, cpu.ticks());
        thread("101", "C2 CompilerThre", 35, 0);
        assertEquals(55, cpu.ticks());
    }

    @Test
    void unknownWithoutCompilerThreadsOrProc() throws IOException {
        thread("100", "java", 500, 50); // -Xint: no compiler threads
        assertEquals(CompilerCpu.UNKNOWN, new CompilerCpu(tasks).ticks());
        assertEquals(CompilerCpu.UNKNOWN, new CompilerCpu(tasks.resolve("absent")).ticks());
    }

    @Test
    void readsThisJvmsOwnCompilerThreads() {
        // The tests run on HotSpot with its JIT on: its compiler threads are there to read.
        assertTrue(new CompilerCpu().ticks() >= 0);
    }
}
