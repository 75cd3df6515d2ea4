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
        usageHelpAutoWidth = true
        // description, synopsis, option headings and footer: HelpText, laid out by HelpLayout
        )
public final class Main implements Callable<Integer> {

    @Option(names = "-L", paramLabel = "[BIND:]PORT:HOST:HOSTPORT",
            description = "A TCP forward (repeatable); backends after a comma are tried in turn or shared out (--balance).")
    List<String> tcpSpecs = new ArrayList<>();

    @Option(names = "-U", paramLabel = "[BIND:]PORT:HOST:HOSTPORT",
            description = "A UDP forward (repeatable): one backend socket per client address; replies go to that client only.")
    List<String> udpSpecs = new ArrayList<>();

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "Forwards, allow/deny rules and logs from a rinetd.conf file; SIGHUP re-reads it without "
                    + "cutting connections. Combines with -L/-U.")
    Path configFile;

    @Option(names = "--buffer-size", paramLabel = "SIZE", converter = SizeConverter.class,
            description = "Buffer per direction, held only while bytes wait for a slow peer (1k-64m; "
                    + "default: ${DEFAULT-VALUE}).", defaultValue = "32k")
    int bufferSize;

    @Option(names = "--connect-timeout", paramLabel = "DURATION", defaultValue = "5s",
            converter = DurationConverter.Millis.class,
            description = "Give up a backend connect after DURATION; a bare number is milliseconds "
                    + "(default: ${DEFAULT-VALUE}).")
    long connectTimeoutMs;

    @Option(names = "--idle-timeout", paramLabel = "DURATION", defaultValue = "0",
            converter = DurationConverter.Seconds.class,
            description = "Close a connection after DURATION without traffic; a bare number is seconds; "
                    + "0 = never (default).")
    long idleTimeoutMs;

    @Option(names = "--fin-timeout", paramLabel = "DURATION", defaultValue = "60s",
            converter = DurationConverter.Seconds.class,
            description = "Close a half-closed connection (one side sent FIN) after DURATION; a bare number is "
                    + "seconds; 0 = never (default: ${DEFAULT-VALUE}).")
    long finTimeoutMs;

    @Option(names = "--udp-timeout", paramLabel = "DURATION", defaultValue = "72s",
            converter = DurationConverter.Seconds.class,
            description = "End a UDP session after DURATION without a datagram either way; a bare number is "
                    + "seconds (default: ${DEFAULT-VALUE}, as rinetd; a config line's [timeout=] wins).")
    long udpTimeoutMs;

    @Option(names = "--udp-max-sessions", paramLabel = "N", defaultValue = "4096",
            description = "UDP sessions per forward; beyond N a new client evicts the least recently active "
                    + "(default: ${DEFAULT-VALUE}).")
    int udpMaxSessions;

    @Option(names = "--keepalive", description = "SO_KEEPALIVE on both sockets, so dead peers are noticed (off by default). The kernel's "
                    + "timers apply: the first probe after net.ipv4.tcp_keepalive_time idle (7200 s by default).")
    boolean keepalive;

    @Option(names = "--max-connections", paramLabel = "N", defaultValue = "0",
            description = "Stop accepting while N TCP connections are open (the rest wait in the backlog); 0 = no cap (default).")
    int maxConnections;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "1",
            description = "Event loops (threads), each with its own SO_REUSEPORT listener; one per core at most "
                    + "(default: 1).")
    int threads;

    @Option(names = "--splice",
            description = "Zero-copy for bulk transfers: move bytes socket -> pipe -> socket with splice(2); small "
                    + "messages are still copied.")
    boolean splice;

    @Option(names = "--pipe-size", paramLabel = "SIZE", converter = SizeConverter.class,
            description = "With --splice: each pipe's capacity (default: the kernel's, 64k; above "
                    + "/proc/sys/fs/pipe-max-size needs CAP_SYS_RESOURCE), e.g. --splice --pipe-size 256k.")
    Integer pipeSize;

    @Option(names = "--send-proxy", paramLabel = "v1|v2",
            description = "Start every backend connection with a PROXY protocol header naming the real client "
                    + "(v1 text, v2 binary); the backend must expect it. Off by default; e.g. --send-proxy v2.")
    String sendProxy;

    @picocli.CommandLine.Mixin
    BalanceArgs balanceArgs = new BalanceArgs();

    @picocli.CommandLine.Mixin
    ClientArgs clientArgs = new ClientArgs();

    @picocli.CommandLine.Mixin
    AcceptProxyFromArgs acceptProxyFrom = new AcceptProxyFromArgs();

    @picocli.CommandLine.Mixin
    DynamicArgs dynamicArgs = new DynamicArgs();

    @picocli.CommandLine.Mixin
    RouteArgs routeArgs = new RouteArgs();

    @picocli.CommandLine.Mixin
    TlsArgs tlsArgs = new TlsArgs();

    @Option(names = "--stats", paramLabel = "[BIND:]PORT",
            description = "Serve /metrics, /connections, /backends, /healthz and /livez over HTTP (below); BIND "
                    + "defaults to 127.0.0.1.")
    String stats;

    @Option(names = "--drain-timeout", paramLabel = "DURATION", defaultValue = "10s",
            converter = DurationConverter.Seconds.class,
            description = "On SIGTERM, let open connections finish for up to DURATION, then reset the rest; a "
                    + "bare number is seconds; 0 = stop at once (default: ${DEFAULT-VALUE}).")
    long drainTimeoutMs;

    @Option(names = "--control", paramLabel = "PATH",
            description = "Hand the listening sockets to a new process started with --takeover PATH (a UNIX "
                    + "socket, mode 0600), then drain. A stale socket at PATH is replaced; anything else is refused.")
    Path controlPath;

    @Option(names = "--takeover", paramLabel = "PATH",
            description = "Take the listening sockets over from the process running with --control PATH "
                    + "(same forwards and --threads); it drains.")
    Path takeoverPath;

    @Option(names = "--warmup", paramLabel = "auto|DURATION", defaultValue = "0", converter = WarmupDuration.class,
            description = "Before listening, run connections through a private loopback forward, so the JIT has "
                    + "compiled the forwarding path when clients come: for takeovers and rolling restarts. auto: until "
                    + "the JIT has been idle for 200 ms (at most 10 s); DURATION: that long (at least one connection, "
                    + "at most 10 s), a bare number is milliseconds (default: ${DEFAULT-VALUE}, none).")
    long warmupMs;

    @Option(names = "--trace", description = "Print every epoll event and syscall on stderr.")
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
        LeanStart.usFormatsForPlainEnglish();
        System.exit(run(args, System.out, System.err));
    }

    /** Parses and runs; returns the exit status. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        LeanStart.skipUnusedConverters();
        CommandLine cl = new CommandLine(new Main(out, err));
        cl.addSubcommand("ctl", new Ctl(out, err));
        HelpLayout.install(cl);
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
        if (v.isEmpty() || v.length() > 9 || !org.epollproxy.config.Digits.ascii(v)) {
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

    /** The listening sockets came from systemd (LISTEN_FDS). */
    private boolean socketActivated;

    @Override
    public Integer call() {
        if (tcpSpecs.isEmpty() && udpSpecs.isEmpty() && configFile == null && routeArgs.routes.isEmpty()) {
            return usage("nothing to forward: give -L [BIND:]PORT:HOST:HOSTPORT, -U ... or --config FILE");
        }
        if (connectTimeoutMs <= 0 || connectTimeoutMs > Integer.MAX_VALUE) {
            return usage("--connect-timeout must be 1ms to 596h, not " + DurationConverter.format(connectTimeoutMs));
        }
        if (maxConnections < 0) return usage("--max-connections must be 0 or more, not " + maxConnections);
        if (threads < 1 || threads > 256) return usage("--threads must be 1-256, not " + threads);
        if (udpTimeoutMs < 1000) return usage("--udp-timeout must be 1s or more, not " + DurationConverter.format(udpTimeoutMs));
        if (drainTimeoutMs > 86_400_000L) return usage("--drain-timeout must be 0 to 24h, not " + DurationConverter.format(drainTimeoutMs));
        if (warmupMs > 60_000) return usage("--warmup must be 0 to 1m, not " + DurationConverter.format(warmupMs));
        int drainTimeoutSec = DurationConverter.toSeconds(drainTimeoutMs);
        if (udpMaxSessions < 1) return usage("--udp-max-sessions must be 1 or more, not " + udpMaxSessions);
        String clientProblem = clientArgs.problem();
        if (clientProblem != null) return usage(clientProblem);
        String proxyFromProblem = acceptProxyFrom.problem(clientArgs.acceptProxy);
        if (proxyFromProblem != null) return usage(proxyFromProblem);

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
                            clientArgs.acceptProxy && kind[1].equals("tcp"), acceptProxyFrom.cidrs()));
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
                args.add(new Forwards.Arg(rs.spec(), r, proxyProtocol, balancing, clientArgs.acceptProxy, acceptProxyFrom.cidrs(), rs.match()));
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
                return usage("cannot read --config " + configFile + ": " + IoErrors.reason(e));
            }
        }
        String dynamicProblem = dynamicArgs.problem(config == null ? null : config.dynamic(), String.valueOf(configFile));
        if (dynamicProblem != null) return usage(dynamicProblem);
        Resolver.useNameServer(dynamicArgs.client()); // --resolver: names at start (and reload) are asked there too
        Settings.Builder builder = Settings.builder()
                .bufferSize(bufferSize)
                .connectTimeoutMs((int) connectTimeoutMs)
                .idleTimeoutSec(DurationConverter.toSeconds(idleTimeoutMs))
                .finTimeoutSec(DurationConverter.toSeconds(finTimeoutMs))
                .keepalive(keepalive)
                .maxConnections(maxConnections)
                .threads(threads)
                .splice(splice)
                .pipeSize(pipeSize == null ? 0 : pipeSize)
                .trace(trace)
                .logConnections(!quiet)
                .udpTimeoutSec(DurationConverter.toSeconds(udpTimeoutMs))
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
        org.epollproxy.runtime.Reresolver names = dynamicArgs.reresolver(err);
        forwards = names.expandAtStart(forwards, Resolver.takeAnswers()); // every address of each backend name, not asked twice
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
            // Before a takeover asks for the sockets: the old process serves meanwhile.
            if (!trace && warmupMs != 0) {
                org.epollproxy.runtime.Warmup.Result warm = org.epollproxy.runtime.Warmup.run(kernel, settings, warmupMs);
                org.epollproxy.forward.Log startLog = new org.epollproxy.forward.Log(err);
                startLog.info("warm-up: " + warm.connections() + " connection(s) through a private loopback forward in "
                        + warm.millis() + " ms" + (warm.how().isEmpty() ? "" : ", " + warm.how()) + ", before listening");
                startLog.flush();
            }
            Map<String, int[]> inherited = Map.of();
            socketActivated = false;
            try {
                int activated = SocketActivation.count(System.getenv(), ProcessHandle.current().pid());
                socketActivated = activated > 0;
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
            proxy.backendPool().setSlowStart(dynamicArgs.slowStartNanos());
            try {
                forwards = proxy.start(forwards, inherited);
                if (takeover != null) {
                    takeover.confirm(); // the old process drains from here on
                    err.println(org.epollproxy.forward.LogTime.now() + " takeover: "
                            + takeover.describe() + "; that process drains now");
                }
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
        if (socketActivated) shutdown.listenersHeldElsewhere();
        if (control != null) control.start(proxy, shutdown::drain, proxy.forwardingLoops().get(0).log());
        Signals.on("TERM", () -> {
            if (drainTimeoutSec == 0 || proxy.draining()) shutdown.stop(); // a second SIGTERM: now
            else shutdown.drain("SIGTERM");
        });
        Signals.on("INT", shutdown::stop);
        names.start(proxy);
        Reloader reloader = new Reloader(names, proxy, args, configFile, logs, err, prereadLimits);
        if (config != null) reloader.dynamicAtStart(config.dynamic());
        reloader.withTls(tlsArgs, tls, bufferSize);
        Signals.onHangup(reloader::requestReload);
        for (Forward f : forwards) out.println(Forwards.listeningLine(f));
        for (String note : Forwards.unixNotes(forwards, config)) err.println("epoll-proxy: " + note);
        if (statsServer != null) {
            statsServer.start(proxy);
            out.println("listening http " + statsServer.address() + " " + StatsServer.PAGES);
        }
        out.flush();
        try {
            proxy.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        names.stop();
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
