package org.epollproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.epollproxy.Ports;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keeps the {@code --trace} excerpts of docs/epoll-lessons.md true: replays the session they were taken
 * from (two forwards to an echo server, a 5-byte and a 300000-byte echo, a reload that removes a forward,
 * another echo, SIGTERM) with the packaged jar, and checks that the lines of every excerpt appear in the
 * real trace in the same order. Numbers (fds, byte counts, timeouts) vary from run to run and are not
 * compared; {@code <time>} and {@code <file>} in an excerpt stand for any text.
 */
class EpollLessonsTraceIT {
    private static final Pattern EXCERPT = Pattern.compile("(?s)```trace\\n(.*?)```");

    @Test
    void everyTraceExcerptOfTheGuideHappensInARealTrace(@TempDir Path dir) throws Exception {
        String trace = traceOfTheGuidesSession(dir);
        List<String> traceLines = new ArrayList<>();
        for (String l : trace.split("\n")) traceLines.add(numbersAside(l));

        String guide = Files.readString(Path.of(System.getProperty("basedir", ".")).resolve("../docs/epoll-lessons.md"));
        Matcher m = EXCERPT.matcher(guide);
        int excerpts = 0;
        List<String> missing = new ArrayList<>();
        while (m.find()) {
            excerpts++;
            int at = 0;
            for (String line : m.group(1).split("\n")) {
                if (line.isBlank() || line.equals("...")) continue;
                Pattern want = pattern(line);
                while (at < traceLines.size() && !want.matcher(traceLines.get(at)).matches()) at++;
                if (at == traceLines.size()) {
                    missing.add("excerpt " + excerpts + ": " + line);
                    break;
                }
                at++;
            }
        }
        assertTrue(excerpts >= 8, "the guide's trace excerpts were found: " + excerpts);
        assertEquals(List.of(), missing, "excerpt lines not seen, in order, in a real trace:\n" + trace);
    }

    /** The excerpt line as a pattern over a trace line whose numbers were set aside. */
    private static Pattern pattern(String excerptLine) {
        StringBuilder re = new StringBuilder();
        for (String part : numbersAside(excerptLine).split("<[a-z]+>", -1)) {
            if (re.length() > 0) re.append(".*");
            re.append(Pattern.quote(part));
        }
        return Pattern.compile(re.toString());
    }

    private static String numbersAside(String line) {
        return line.replaceAll("\\d+", "N");
    }

    /** The session of the guide, through the real jar with --trace; returns what it traced (its stderr). */
    private static String traceOfTheGuidesSession(Path dir) throws Exception {
        try (ServerSocket echo = echoServer()) {
            int pa = Ports.free();
            int pb = Ports.free();
            Path conf = dir.resolve("fw.conf");
            Files.writeString(conf, "127.0.0.1 " + pa + " 127.0.0.1 " + echo.getLocalPort() + "\n"
                    + "127.0.0.1 " + pb + " 127.0.0.1 " + echo.getLocalPort() + "\n");
            try (JarProcess p = new JarProcess("--trace", "-c", conf.toString())) {
                p.nextLine();
                p.nextLine(); // both listening
                echoThrough(pa, 5);
                serverFirst(pa, p);
                echoThrough(pa, 300_000);
                Files.writeString(conf, "127.0.0.1 " + pa + " 127.0.0.1 " + echo.getLocalPort() + "\n");
                p.signal("HUP");
                long deadline = System.nanoTime() + 30_000_000_000L;
                while (!p.stderr().contains("0 added, 1 removed, 0 changed, 1 unchanged")) {
                    assertTrue(System.nanoTime() < deadline, "no reload; stderr:\n" + p.stderr());
                    Thread.sleep(10);
                }
                echoThrough(pa, 5);
                p.signal("TERM");
                assertEquals(0, p.exitCode(30), p.stderr());
                return p.stderr();
            }
        }
    }

    /** Sends n bytes through the proxy and reads them back, then half-closes and waits for the EOF. */
    private static void echoThrough(int port, int n) throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(30_000);
            Thread writer = new Thread(() -> {
                try {
                    s.getOutputStream().write(new byte[n]);
                    s.shutdownOutput();
                } catch (IOException e) {
                    // the read below fails too, and says so
                }
            });
            writer.start();
            InputStream in = s.getInputStream();
            byte[] b = new byte[65536];
            long got = 0;
            for (int r; (r = in.read(b)) > 0; ) got += r;
            writer.join(30_000);
            assertEquals(n, got, "echoed through the proxy");
        }
    }

    /**
     * A client that says nothing until the proxy's read at accept found nothing (as with a protocol whose
     * server speaks first): the backend connect then has no bytes to prove it and waits for EPOLLOUT.
     */
    private static void serverFirst(int port, JarProcess p) throws Exception {
        int before = eagainReads(p.stderr());
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(30_000);
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (eagainReads(p.stderr()) == before) {
                assertTrue(System.nanoTime() < deadline, "no empty read at accept; stderr:\n" + p.stderr());
                Thread.sleep(10);
            }
            s.getOutputStream().write(new byte[5]);
            s.shutdownOutput();
            assertEquals(5, s.getInputStream().readAllBytes().length, "echoed through the proxy");
        }
    }

    private static int eagainReads(String trace) {
        Matcher m = Pattern.compile("(?m)^recv fd \\d+ -> EAGAIN$").matcher(trace);
        int n = 0;
        while (m.find()) n++;
        return n;
    }

    /** An echo server on 127.0.0.1: a thread per connection, each byte sent back, EOF answered with EOF. */
    private static ServerSocket echoServer() throws IOException {
        ServerSocket ss = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(() -> {
            while (!ss.isClosed()) {
                try {
                    Socket c = ss.accept();
                    Thread t = new Thread(() -> {
                        try (c; InputStream in = c.getInputStream(); OutputStream out = c.getOutputStream()) {
                            in.transferTo(out);
                        } catch (IOException e) {
                            // the client went away
                        }
                    });
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return; // closed
                }
            }
        });
        acceptor.setDaemon(true);
        acceptor.start();
        return ss;
    }
}
