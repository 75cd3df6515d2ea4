package org.epollproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar, as a process, whose event loop dies: it must exit 70 with one line naming the loop
 * and the cause, never 0 (systemd's Restart=on-failure would not restart it). The fault is a real one
 * at the FFI boundary: the jar runs on a build of the shim (-Depollproxy.shim) whose epoll_wait fails
 * with EBADF once a trigger file exists; the rest of the shim is the project's own shim.c.
 */
class LoopDeathIT {
    static final Path NATIVE = Path.of(System.getProperty("user.dir")).resolve("../native").normalize();

    /** The shim with epoll_wait failing while {@code trigger} exists. */
    static Path faultyShim(Path dir, Path trigger) throws Exception {
        Path src = dir.resolve("faulty_shim.c");
        Files.writeString(src, String.join("\n",
                "#define shim_epoll_wait real_shim_epoll_wait",
                "#include \"shim.c\"",
                "#undef shim_epoll_wait",
                "int shim_epoll_wait(int epfd, long long out, int max, int timeout_ms) {",
                "    if (access(FAULT_FILE, F_OK) == 0) return -EBADF;",
                "    return real_shim_epoll_wait(epfd, out, max, timeout_ms);",
                "}", ""));
        Path lib = dir.resolve("libfaultyshim.so");
        Process cc = new ProcessBuilder("cc", "-shared", "-fPIC", "-O1", "-I" + NATIVE, "-DFAULT_FILE=\"" + trigger + "\"",
                "-o", lib.toString(), src.toString(), NATIVE.resolve("constants.c").toString(),
                NATIVE.resolve("strerror.c").toString()).redirectErrorStream(true).start();
        String out = new String(cc.getInputStream().readAllBytes());
        assertTrue(cc.waitFor(60, TimeUnit.SECONDS) && cc.exitValue() == 0, "cc failed:\n" + out);
        return lib;
    }

    @Test
    void aDeadLoopExitsSeventyWithOneLineSayingWhich(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isRegularFile(NATIVE.resolve("shim.c")), "no native/shim.c next to the module at " + NATIVE);
        Path trigger = dir.resolve("fail-epoll-wait");
        Path lib = faultyShim(dir, trigger);
        try (ServerSocket backend = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
                JarProcess p = new JarProcess(List.of("-Depollproxy.shim=" + lib), "-L", "0:127.0.0.1:" + backend.getLocalPort(),
                        "--threads", "2", "--quiet")) {
            Matcher m = Pattern.compile("listening tcp 127\\.0\\.0\\.1:(\\d+) .*").matcher(p.nextLine());
            assertTrue(m.matches());
            int port = Integer.parseInt(m.group(1));
            List<Socket> clients = new ArrayList<>();
            try {
                for (int i = 0; i < 8; i++) clients.add(new Socket("127.0.0.1", port));
                Files.createFile(trigger);
                // The loops sleep in epoll_wait; new connections wake them into the failing call.
                for (int i = 0; i < 8; i++) {
                    try {
                        clients.add(new Socket("127.0.0.1", port));
                    } catch (java.io.IOException gone) {
                        break; // the listeners are closed: the loops have died or stopped
                    }
                }
                assertEquals(70, p.exitCode(20), "exit status; stderr:\n" + p.stderr());
            } finally {
                for (Socket c : clients) c.close();
            }
            String err = p.stderr();
            List<String> died = err.lines().filter(l -> l.contains("died")).toList();
            assertEquals(1, died.size(), "one line names the dead loop:\n" + err);
            assertTrue(died.get(0).matches("epoll-proxy: loop [01] died: .*epoll_wait.*EBADF.*exit status 70"), died.get(0));
            assertTrue(!err.contains("\tat "), "no stack trace:\n" + err);
        }
    }
}
