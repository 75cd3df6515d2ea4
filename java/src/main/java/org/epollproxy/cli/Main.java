package org.epollproxy.cli;

import org.epollproxy.config.ForwardSpec;
import org.epollproxy.config.SpecException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.epollproxy.config.Config;
import org.epollproxy.config.ConfigParser;
import org.epollproxy.forward.Forward;
import java.util.Map;
import org.epollproxy.runtime.ControlServer;
import org.epollproxy.runtime.ProxyServer;
import org.epollproxy.runtime.Takeover;
import org.epollproxy.forward.ProxyProtocol;
import org.epollproxy.forward.Settings;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.Shim;
import org.epollproxy.shim.SockAddr;
import org.epollproxy.shim.SyscallException;
import org.epollproxy.stats.StatsServer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The command line. Exit status: 0 after SIGTERM/SIGINT, 1 when start fails at runtime (address in
 * use, permission denied, a host that does not resolve, the shim cannot load), 2 for usage errors.
 */
@Command(
        name = "epoll-proxy",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        sortOptions = false,
        usageHelpAutoWidth = true,
        description = {
            "Forwards TCP connections and UDP datagrams from local ports to backends, with one "
                    + "non-blocking epoll event loop per thread.",
            "",
            "Each -L (TCP) or -U (UDP) is [BIND:]PORT:HOST:HOSTPORT as in ssh -L; as there, a UNIX socket path "
                    + "(it holds a '/') may replace [BIND:]PORT or HOST:HOSTPORT: -L 2375:/var/run/docker.sock, "
                    + "-L /run/app.sock:10.0.0.5:80, -L /run/a.sock:/run/b.sock. BIND defaults to 127.0.0.1; "
                    + "use 0.0.0.0: (or *:) to accept connections from other machines. IPv6 literals go in brackets: "
                    + "[::1]:9000:[::1]:8000. PORT 0 picks a free port (the 'listening' line shows it). Extra "
                    + "backends after a comma are tried in order when a connect is refused or times out "
                    + "(-L 9000:app1:80,app2:80), or shared out with --balance roundrobin|leastconn|source; "
                    + "backends that keep failing (--max-fails) or fail --check are skipped. An existing "
                    + "rinetd.conf works with --config.",
            ""
        }
        // the footer (output, signals, exit status, examples) is HelpText.FOOTER, set in run()
        )
public final class Main implements Callable<Integer> {

    @Option(names = "-L", paramLabel = "[BIND:]PORT:HOST:HOSTPORT",
            description = "A TCP forward (repeatable).")
    List<String> tcpSpecs = new ArrayList<>();

    @Option(names = "-U", paramLabel = "[BIND:]PORT:HOST:HOSTPORT",
            description = "A UDP forward (repeatable): one backend socket per client address, replies go back "
                    + "to that client only.")
    List<String> udpSpecs = new ArrayList<>();

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "Forwards from a rinetd.conf-style file (rinetd's grammar: 'bindaddress bindport "
                    + "connectaddress connectport [timeout=S,src=ADDR]', allow/deny, logfile, logcommon, "
                    + "pidlogfile). SIGHUP re-reads it without cutting open connections. Combines with -L/-U.")
    Path configFile;

    @Option(names = "--buffer-size", paramLabel = "SIZE", converter = SizeConverter.class,
            description = "Buffer per direction of each connection, held only while data waits "
                    + "for a slow peer (1k-64m, k/m suffixes; default: ${DEFAULT-VALUE}).", defaultValue = "32k")
    int bufferSize;

    @Option(names = "--connect-timeout", paramLabel = "MS", defaultValue = "5000",
            description = "Give up a backend connect after MS milliseconds (default: ${DEFAULT-VALUE}).")
    int connectTimeoutMs;

    @Option(names = "--idle-timeout", paramLabel = "SEC", defaultValue = "0",
            description = "Close a connection after SEC seconds without traffic; 0 = never (default).")
    int idleTimeoutSec;

    @Option(names = "--fin-timeout", paramLabel = "SEC", defaultValue = "60",
            description = "Close a half-closed connection (one side sent FIN) after SEC seconds; 0 = never "
                    + "(default: ${DEFAULT-VALUE}).")
    int finTimeoutSec;

    @Option(names = "--udp-timeout", paramLabel = "SEC", defaultValue = "72",
            description = "End a UDP session after SEC seconds without a datagram either way, unless its config "
                    + "line says [timeout=] (default: ${DEFAULT-VALUE}, as rinetd).")
    int udpTimeoutSec;

    @Option(names = "--udp-max-sessions", paramLabel = "N", defaultValue = "4096",
            description = "UDP sessions per forward; a new client beyond N evicts the least recently active "
                    + "session (default: ${DEFAULT-VALUE}).")
    int udpMaxSessions;

    @Option(names = "--keepalive", description = "Enable TCP keepalive on both sockets of each connection.")
    boolean keepalive;

    @Option(names = "--max-connections", paramLabel = "N", defaultValue = "0",
            description = "Stop accepting while N connections are open (new ones wait in the backlog); 0 = no cap.")
    int maxConnections;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "1",
            description = "Event loops (threads), each with its own epoll fd and SO_REUSEPORT listener per forward: "
                    + "the kernel spreads new connections over them; one per core at most (default: 1).")
    int threads;

    @Option(names = "--splice",
            description = "Zero-copy for bulk transfers: once a read brings 4k or more, move bytes socket -> pipe -> socket "
                    + "with splice(2), never through user space; small messages are copied. Pipes are lent by the loop "
                    + "while bytes wait in them (2 fds each; up to 64 idle ones kept). Falls back to copying if refused.")
    boolean splice;

    @Option(names = "--pipe-size", paramLabel = "SIZE", converter = SizeConverter.class,
            description = "With --splice: each pipe's capacity (F_SETPIPE_SZ, rounded up to a power-of-two number "
                    + "of pages; default: the kernel's, 64k). Above /proc/sys/fs/pipe-max-size needs CAP_SYS_RESOURCE.")
    Integer pipeSize;

    @Option(names = "--send-proxy", paramLabel = "v1|v2",
            description = "Start every backend connection with a PROXY protocol header (v1 text, v2 binary) "
                    + "carrying the client's real address, before any client byte; the backend must expect it.")
    String sendProxy;

    @picocli.CommandLine.Mixin
    BalanceArgs balanceArgs = new BalanceArgs();

    @picocli.CommandLine.Mixin
    ClientArgs clientArgs = new ClientArgs();

    @picocli.CommandLine.Mixin
    RouteArgs routeArgs = new RouteArgs();

    @picocli.CommandLine.Mixin
    TlsArgs tlsArgs = new TlsArgs();

    @Option(names = "--stats", paramLabel = "[BIND:]PORT",
            description = "Serve /metrics (Prometheus), /connections (JSON: every open connection, its buffers "
                    + "and epoll interest) and /healthz over HTTP on PORT; BIND defaults to 127.0.0.1.")
    String stats;

    @Option(names = "--drain-timeout", paramLabel = "SEC", defaultValue = "10",
            description = "SIGTERM drains: stop accepting at once, let open connections finish, reset what is "
                    + "left after SEC seconds, exit 0; 0 = SIGTERM resets everything at once, like SIGINT "
                    + "(default: ${DEFAULT-VALUE}).")
    int drainTimeoutSec;

    @Option(names = "--control", paramLabel = "PATH",
            description = "Listen on the UNIX socket PATH (mode 0600) for a new process started with --takeover PATH: "
                    + "it receives the listening sockets, and this process drains.")
    Path controlPath;

    @Option(names = "--takeover", paramLabel = "PATH",
            description = "Take the listening sockets over from the process running with --control PATH (same "
                    + "forwards, same --threads), serve them at once, and make that process drain.")
    Path takeoverPath;

    @Option(names = "--trace", description = "Print every epoll event and syscall outcome on stderr.")
    boolean trace;

    @Option(names = "--quiet", description = "No per-connection log lines.")
    boolean quiet;

    private final PrintStream out;
    private final PrintStream err;

    Main(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Parses and runs; returns the exit status. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        CommandLine cl = new CommandLine(new Main(out, err));
        cl.getCommandSpec().usageMessage().footer(HelpText.FOOTER);
        cl.setOut(new java.io.PrintWriter(out, true));
        cl.setErr(new java.io.PrintWriter(err, true));
        cl.registerConverter(Integer.class, Main::asciiInt);
        cl.registerConverter(int.class, Main::asciiInt);
        cl.setParameterExceptionHandler((ex, a) -> {
            err.println("epoll-proxy: " + UsageErrors.message(ex));
            UsageErrors.suggest(ex, err);
            err.println("Try 'epoll-proxy --help' for more information.");
            return CommandLine.ExitCode.USAGE;
        });
        return cl.execute(args);
    }

    /** An option's number: ASCII digits only (Integer.parseInt also takes Arabic-Indic and other digits). */
    static Integer asciiInt(String value) {
        String v = value.startsWith("-") ? value.substring(1) : value;
        if (v.isEmpty() || v.length() > 9 || !v.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new CommandLine.TypeConversionException("'" + value + "' is not a number (digits 0-9 only)");
        }
        return Integer.parseInt(value);
    }

    /** Usage error: exit 2 with one message naming the bad input. */
    private int usage(String msg) {
        err.println("epoll-proxy: " + msg);
        err.println("Try 'epoll-proxy --help' for more information.");
        return CommandLine.ExitCode.USAGE;
    }

    @Override
    public Integer call() {
        if (tcpSpecs.isEmpty() && udpSpecs.isEmpty() && configFile == null && routeArgs.routes.isEmpty()) {
            return usage("nothing to forward: give -L [BIND:]PORT:HOST:HOSTPORT, -U ... or --config FILE");
        }
        if (connectTimeoutMs <= 0) return usage("--connect-timeout must be a positive number of milliseconds, not " + connectTimeoutMs);
        if (idleTimeoutSec < 0) return usage("--idle-timeout must be 0 or more seconds, not " + idleTimeoutSec);
        if (finTimeoutSec < 0) return usage("--fin-timeout must be 0 or more seconds, not " + finTimeoutSec);
        if (maxConnections < 0) return usage("--max-connections must be 0 or more, not " + maxConnections);
        if (threads < 1 || threads > 256) return usage("--threads must be 1-256, not " + threads);
        if (udpTimeoutSec < 1) return usage("--udp-timeout must be 1 or more seconds, not " + udpTimeoutSec);
        if (drainTimeoutSec < 0 || drainTimeoutSec > 86_400) return usage("--drain-timeout must be 0-86400 seconds, not " + drainTimeoutSec);
        if (udpMaxSessions < 1) return usage("--udp-max-sessions must be 1 or more, not " + udpMaxSessions);
        String clientProblem = clientArgs.problem();
        if (clientProblem != null) return usage(clientProblem);

        if (pipeSize != null && !splice) return usage("--pipe-size applies to --splice only");

        ProxyProtocol proxyProtocol = ProxyProtocol.OFF;
        if (sendProxy != null) {
            try {
                proxyProtocol = ProxyProtocol.parse(sendProxy);
            } catch (IllegalArgumentException e) {
                return usage("--send-proxy: " + e.getMessage());
            }
        }

        org.epollproxy.forward.Balancing balancing;
        try {
            balancing = balanceArgs.toBalancing();
        } catch (IllegalArgumentException e) {
            return usage(e.getMessage());
        }

        SockAddr statsAddr = null;
        if (stats != null) {
            try {
                statsAddr = StatsOption.parse(stats);
            } catch (SpecException e) {
                return usage("--stats " + stats + ": " + e.getMessage() + " (at character " + (e.position() + 1) + ")");
            } catch (Resolver.ResolveException e) {
                err.println("epoll-proxy: " + e.getMessage());
                return 1;
            }
        }

        List<Forwards.Arg> args = new ArrayList<>();
        for (String[] kind : new String[][] {{"-L", "tcp"}, {"-U", "udp"}}) {
            for (String s : kind[1].equals("tcp") ? tcpSpecs : udpSpecs) {
                try {
                    args.add(new Forwards.Arg(ForwardSpec.parse(s, kind[1]), s,
                            kind[1].equals("tcp") ? proxyProtocol : ProxyProtocol.OFF,
                            kind[1].equals("tcp") ? balancing : org.epollproxy.forward.Balancing.DEFAULT,
                            clientArgs.acceptProxy && kind[1].equals("tcp")));
                } catch (SpecException e) {
                    return usage(kind[0] + " " + s + ": " + e.getMessage() + " (at character " + (e.position() + 1) + ")");
                }
            }
        }
        org.epollproxy.forward.PrereadLimits prereadLimits;
        try {
            prereadLimits = routeArgs.limits(bufferSize);
        } catch (IllegalArgumentException e) {
            return usage(e.getMessage());
        }
        for (String r : routeArgs.routes) {
            try {
                org.epollproxy.config.RouteSpec rs = org.epollproxy.config.RouteSpec.parse(r);
                args.add(new Forwards.Arg(rs.spec(), r, proxyProtocol, balancing, clientArgs.acceptProxy, rs.match()));
            } catch (SpecException e) {
                return usage("--route " + r + ": " + e.getMessage() + " (at character " + (e.position() + 1) + ")");
            }
        }
        Config config = null;
        if (configFile != null) {
            try {
                config = ConfigParser.parse(configFile);
            } catch (SpecException e) {
                return usage(configMessage(configFile, e));
            } catch (IOException e) {
                return usage("cannot read --config " + configFile + ": " + e.getMessage());
            }
        }
        Settings.Builder builder = Settings.builder()
                .bufferSize(bufferSize)
                .connectTimeoutMs(connectTimeoutMs)
                .idleTimeoutSec(idleTimeoutSec)
                .finTimeoutSec(finTimeoutSec)
                .keepalive(keepalive)
                .maxConnections(maxConnections)
                .threads(threads)
                .splice(splice)
                .pipeSize(pipeSize == null ? 0 : pipeSize)
                .trace(trace)
                .logConnections(!quiet)
                .udpTimeoutSec(udpTimeoutSec)
                .udpMaxSessions(udpMaxSessions);
        Settings settings = clientArgs.applyTo(builder).build();

        List<Forward> forwards;
        try {
            forwards = Forwards.build(args, config, prereadLimits);
        } catch (Resolver.ResolveException e) {
            err.println("epoll-proxy: " + e.getMessage());
            return 1;
        }
        String dup = Forwards.duplicate(forwards);
        if (dup != null) return usage(dup);
        TlsArgs tls = tlsArgs.withConfig(config); // the options and the config file's TLS lines
        try {
            forwards = tls.apply(forwards, bufferSize);
        } catch (IllegalArgumentException e) {
            return usage(e.getMessage());
        }
        String noRoom = FdBudget.check(forwards.size(), threads, FdBudget.limit());
        if (noRoom != null) {
            err.println("epoll-proxy: " + noRoom);
            return 1; // as for any start the system refuses (address in use, ...): nothing is bound
        }

        ProxyServer proxy;
        StatsServer statsServer = null;
        Logs logs = new Logs(err);
        Takeover takeover = null;
        ControlServer control = null;
        boolean replaceControl = takeoverPath != null && takeoverPath.equals(controlPath);
        try {
            Kernel kernel = Shim.load();
            String badPipeSize = pipeSize == null ? null : PipeSizeCheck.problem(kernel, pipeSize);
            if (badPipeSize != null) return usage(badPipeSize);
            Map<String, int[]> inherited = Map.of();
            try {
                int activated = SocketActivation.count(System.getenv(), ProcessHandle.current().pid());
                if (activated > 0 && takeoverPath != null) return usage("--takeover and systemd socket activation (LISTEN_FDS) exclude each other");
                if (activated > 0 && threads != 1) return usage("socket activation passes one socket per forward: use --threads 1");
                if (activated > 0) inherited = SocketActivation.adopt(kernel, activated, System.getenv("LISTEN_FDNAMES"), forwards);
            } catch (SocketActivation.Mismatch e) {
                return usage(e.getMessage());
            }
            if (controlPath != null && !replaceControl) control = ControlServer.bind(kernel, controlPath, false);
            if (takeoverPath != null) {
                takeover = Takeover.request(kernel, takeoverPath.toString(), threads, forwards, 10_000);
                inherited = takeover.sockets();
            }
            if (statsAddr != null) statsServer = StatsServer.bind(statsAddr); // before the forwards: all or nothing
            Logs.Opened files = logs.open(config);
            proxy = new ProxyServer(kernel, settings, err);
            try {
                forwards = proxy.start(forwards, inherited);
                if (takeover != null) takeover.confirm(); // the old process drains from here on
                if (replaceControl) control = ControlServer.bind(kernel, controlPath, true);
            } catch (RuntimeException e) {
                if (takeover != null) takeover.close();
                files.discard();
                if (files.pidFile() != null) java.nio.file.Files.deleteIfExists(files.pidFile());
                throw e;
            }
            logs.install(proxy, files);
        } catch (Shim.ShimLoadException | SyscallException | IOException | IllegalStateException | Takeover.TakeoverException e) {
            if (statsServer != null) statsServer.close();
            if (control != null) control.removeFile();
            String what = statsServer == null && statsAddr != null && e instanceof IOException ? "--stats " + statsAddr + ": " : "";
            err.println("epoll-proxy: " + what + e.getMessage());
            return 1;
        }
        StatsServer statsToStop = statsServer;
        Shutdown shutdown = new Shutdown(proxy, logs, statsToStop, drainTimeoutSec, err, control);
        if (control != null) control.start(proxy, shutdown::drain, proxy.forwardingLoops().get(0).log());
        Signals.on("TERM", () -> {
            if (drainTimeoutSec == 0 || proxy.draining()) shutdown.stop(); // a second SIGTERM: now
            else shutdown.drain("SIGTERM");
        });
        Signals.on("INT", shutdown::stop);
        Reloader reloader = new Reloader(proxy, args, configFile, logs, err, prereadLimits);
        reloader.withTls(tlsArgs, tls, bufferSize);
        Signals.onHangup(reloader::requestReload);
        for (Forward f : forwards) out.println("listening " + f.proto().lower() + " " + f);
        for (String note : Forwards.unixNotes(forwards, config)) err.println("epoll-proxy: " + note);
        if (statsServer != null) {
            statsServer.start(proxy);
            out.println("listening http " + statsServer.address() + " /metrics /connections /backends /healthz");
        }
        out.flush();
        try {
            proxy.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        shutdown.report();
        if (control != null) control.removeFile();
        if (statsServer != null) statsServer.close();
        logs.close();
        return proxy.failure() == null ? 0 : ProxyServer.EXIT_LOOP_DIED; // the loop's own line said why

    }

    /** "FILE:LINE: what is wrong (at character N)", or "FILE: what is wrong" about the whole file. */
    static String configMessage(Path file, SpecException e) {
        if (e.line() <= 0) return file + ": " + e.getMessage();
        return file + ":" + e.line() + ": " + e.getMessage() + " (at character " + (e.position() + 1) + ")";
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"epoll-proxy " + (v == null ? "(development build)" : v),
                "Java " + System.getProperty("java.version") + " on " + System.getProperty("os.name") + " "
                        + System.getProperty("os.arch")};
        }
    }
}
