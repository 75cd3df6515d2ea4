package org.epollproxy.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import jdk.net.ExtendedSocketOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code epoll-proxy ctl}: one command to the running process over its {@code --control} socket (the
 * process accepts peers of its own uid only), its answer printed. Exit status 0 when the process did it,
 * 1 when it refused (the one line says why) or cannot be reached, 2 for a usage error.
 */
@Command(name = "ctl", sortOptions = false, usageHelpAutoWidth = true,
        description = {"Changes backends of a running epoll-proxy, at once and without a reload, over its --control socket.", "",
            "Commands:",
            "  backends                  every backend: admin state, health, weight, open",
            "                            connections; for a name, the name and last seen",
            "  drain BACKEND             no new clients; its open connections finish",
            "  disable BACKEND [--reset] maintenance: no new clients; open connections",
            "                            finish (with --reset they are reset now)",
            "  enable BACKEND            ready again: health checks decide; --slow-start",
            "  weight BACKEND N          weight 1-256 from now on; 0 = as configured",
            "",
            "BACKEND is HOST:PORT as 'backends' lists it, or NAME:PORT for every address of a name. A state holds "
                    + "across reloads while the backend stays in the forward. Exit status: 0 done; 1 refused (one line "
                    + "says why) or no answer; 2 usage error. See docs/dynamic-backends.md.", ""},
        footer = {"", "Examples:", "  epoll-proxy ctl --control /run/epoll-proxy.sock backends",
            "  epoll-proxy ctl --control /run/ep.sock --forward 9000 drain 10.0.0.2:8080",
            "  epoll-proxy ctl --control /run/ep.sock weight app.internal:8080 5"})
final class Ctl implements Callable<Integer> {
    /** How long to wait for the answer (the process answers from its event loop at once). */
    static final long TIMEOUT_MS = 10_000;
    static final int MAX_ANSWER = 1 << 20;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Option(names = "--control", paramLabel = "PATH", required = true,
            description = "The running process's --control socket.")
    Path control;

    @Option(names = "--forward", paramLabel = "[BIND:]PORT",
            description = "Only the TCP forward listening there (a PORT matches any BIND; a UNIX socket path too); default: every forward.")
    String forward;

    @Option(names = "--reset", description = "With disable: reset the backend's open connections too (by default they finish).")
    boolean reset;

    @Parameters(paramLabel = "COMMAND", arity = "1..*", description = "backends | drain B | disable B | enable B | weight B N")
    List<String> words = new ArrayList<>();

    private final PrintStream out;
    private final PrintStream err;

    Ctl(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    @Override
    public Integer call() {
        String fwd = forward == null ? "*" : forward;
        for (String w : words) {
            if (w.isEmpty() || !w.chars().allMatch(c -> c > 0x20 && c < 0x7f)) return usage("\"" + w + "\" is not a word of printable ASCII");
        }
        if (!fwd.chars().allMatch(c -> c > 0x20 && c < 0x7f)) return usage("--forward \"" + fwd + "\" is not printable ASCII");
        if (reset && !words.get(0).equals("disable")) return usage("--reset goes with disable only");
        String line = "ctl 1 " + fwd + " " + String.join(" ", words) + (reset ? " --reset" : "") + "\n";
        if (line.length() > 500) return usage("the command is too long");
        List<String> answer;
        try {
            answer = ask(line);
        } catch (NotOurs e) {
            err.println("epoll-proxy ctl: --control " + control + ": " + e.getMessage());
            return 1;
        } catch (IOException e) {
            err.println("epoll-proxy ctl: --control " + control + ": " + (e.getMessage() == null ? e.toString() : e.getMessage())
                    + " (is epoll-proxy running with --control " + control + "?)");
            return 1;
        }
        for (String a : answer) {
            if (a.startsWith(". ")) {
                out.println(a.substring(2));
            } else if (a.startsWith("ok")) {
                out.println(a.length() > 3 ? a.substring(3) : "done");
                return 0;
            } else if (a.startsWith("error ")) {
                err.println("epoll-proxy ctl: " + a.substring(6));
                return 1;
            }
        }
        err.println("epoll-proxy ctl: --control " + control + ": the process closed the connection without an answer"
                + " (it accepts only peers of its own uid, one conversation at a time: see its log)");
        return 1;
    }

    private int usage(String msg) {
        err.println("epoll-proxy ctl: " + msg);
        err.println("Try 'epoll-proxy ctl --help' for more information.");
        return 2;
    }

    /** The socket at --control is served by a process of another user: it is not sent the command. */
    static final class NotOurs extends Exception {
        NotOurs(String message) {
            super(message);
        }
    }

    /**
     * Sends {@code line}, reads the answer lines until the process closes (bounded in size and time).
     * Only to a process of our own uid (SO_PEERCRED, as the process checks us): a socket another local user
     * made at the path (a world-writable directory, a process not running yet) would else receive the
     * command and could answer "ok" to a drain that never happened.
     */
    private List<String> ask(String line) throws IOException, NotOurs {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            Thread watchdog = new Thread(() -> {
                try {
                    Thread.sleep(TIMEOUT_MS);
                    ch.close(); // unblocks the read below
                } catch (InterruptedException | IOException ignored) {
                    // answered in time
                }
            }, "ctl-timeout");
            watchdog.setDaemon(true);
            ch.connect(UnixDomainSocketAddress.of(control));
            UserPrincipal server = ch.getOption(ExtendedSocketOptions.SO_PEERCRED).user();
            UserPrincipal us = Files.getOwner(Path.of("/proc/self")); // our effective uid, named or not
            if (!server.equals(us)) {
                throw new NotOurs("the process there runs as user " + server.getName() + ", we as " + us.getName()
                        + "; the command is not sent (epoll-proxy accepts ctl from its own user only)");
            }
            watchdog.start();
            ByteBuffer b = ByteBuffer.wrap(line.getBytes(StandardCharsets.US_ASCII));
            try {
                while (b.hasRemaining()) ch.write(b);
            } catch (IOException e) { // connected, then closed at once (a peer of another uid): no answer
                watchdog.interrupt();
                return List.of();
            }
            ByteBuffer in = ByteBuffer.allocate(MAX_ANSWER);
            try {
                while (in.hasRemaining() && ch.read(in) >= 0) {
                    // until the process closes
                }
            } catch (java.nio.channels.AsynchronousCloseException e) {
                throw new IOException("no answer within " + TIMEOUT_MS + " ms");
            } catch (IOException e) {
                // reset by the process: what came before is the answer (none, for a peer it refused)
            } finally {
                watchdog.interrupt();
            }
            String text = new String(in.array(), 0, in.position(), StandardCharsets.US_ASCII);
            List<String> lines = new ArrayList<>();
            for (String l : text.split("\n")) if (!l.isEmpty()) lines.add(l);
            return lines;
        }
    }
}
