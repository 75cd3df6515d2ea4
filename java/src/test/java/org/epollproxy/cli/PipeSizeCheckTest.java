package org.epollproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.epollproxy.shim.Errno;
import org.epollproxy.shim.InterposedKernel;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.Shim;
import org.junit.jupiter.api.Test;

/** {@code --pipe-size}: checked on a real pipe at start; a refusal names the kernel's limit. */
class PipeSizeCheckTest {
    @Test
    void aSizeTheKernelTakesPasses() {
        assertNull(PipeSizeCheck.problem(Shim.load(), 256 * 1024));
    }

    @Test
    void aRefusedSizeIsAnErrorNamingTheLimitAndNoFdLeaks() throws Exception {
        Kernel real = Shim.load();
        int[] open = {0};
        Kernel refusing = InterposedKernel.over(real, (name, args, call) -> {
            if (name.equals("set_pipe_size")) return -Errno.EPERM;
            Object r = call.invoke();
            if (name.equals("pipe2")) open[0] += 2;
            if (name.equals("close")) open[0]--;
            return r;
        });
        String msg = PipeSizeCheck.problem(refusing, 4 << 20);
        assertTrue(msg.startsWith("--pipe-size 4194304: the kernel refused it: EPERM"), msg);
        assertTrue(msg.contains("/proc/sys/fs/pipe-max-size"), msg);
        assertTrue(msg.endsWith("(" + catPipeMaxSize() + " here)"), "the limit as cat reads it: " + msg);
        assertEquals(0, open[0], "both ends of the test pipe closed");
    }

    /** A sysctl file answers only a read from offset 0: read in one piece, not a byte and then the rest. */
    @Test
    void theLimitIsReadWhole() throws Exception {
        assertEquals(catPipeMaxSize(), PipeSizeCheck.sysctl(PipeSizeCheck.PIPE_MAX_SIZE));
    }

    private static String catPipeMaxSize() throws java.io.IOException, InterruptedException {
        Process cat = new ProcessBuilder("cat", "/proc/sys/fs/pipe-max-size").start();
        String value = new String(cat.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        assertEquals(0, cat.waitFor());
        assertTrue(Long.parseLong(value) >= 4096, value); // the kernel's floor is a page
        return value;
    }

    @Test
    void pipeSizeWithoutSpliceIsAUsageError() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(err, true, StandardCharsets.UTF_8);
        int rc = Main.run(new String[] {"--pipe-size", "256k", "-L", "127.0.0.1:0:127.0.0.1:9"}, ps, ps);
        assertEquals(2, rc);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("--pipe-size applies to --splice only"), err.toString(StandardCharsets.UTF_8));
    }
}
