package org.epollproxy.cli;

import org.epollproxy.config.ForwardSpec;
import org.epollproxy.config.SpecException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
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
import picocli.CommandLine.Mixin;
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

    // The other options, a group per file. picocli keeps this order (the completion scripts list the options
    // in it); --help and the man page order them by HelpText.GROUPS instead.
    @Mixin ConnectionArgs connection = new ConnectionArgs();
    @Mixin PerformanceArgs performance = new PerformanceArgs();
    @Mixin SendProxyArgs sendProxy = new SendProxyArgs();
    @Mixin BalanceArgs balanceArgs = new BalanceArgs();
    @Mixin ClientArgs clientArgs = new ClientArgs();
    @Mixin AcceptProxyFromArgs acceptProxyFrom = new AcceptProxyFromArgs();
    @Mixin DynamicArgs dynamicArgs = new DynamicArgs();
    @Mixin RouteArgs routeArgs = new RouteArgs();
    @Mixin TlsArgs tlsArgs = new TlsArgs();
    @Mixin OperationArgs operation = new OperationArgs();

    private final PrintStream out;
    private final PrintStream err;

    Main(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    public static void main(String[] args) {
        LeanStart.usFormatsForPlainEnglish();
        System.exit(run(args, System.out, org.epollproxy.runtime.LogStreams.stderr())); // not System.err: see LogStreams
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
        // Until the reloader is in place a SIGHUP (systemctl reload under Type=exec, a logrotate kill -HUP) would
        // end the JVM (status 129) in the seconds a warm-up or name lookups take: it asks for a reload once running.
        java.util.concurrent.atomic.AtomicBoolean hupDuringStart = new java.util.concurrent.atomic.AtomicBoolean();
        Signals.onHangup(() -> hupDuringStart.set(true));
        if (tcpSpecs.isEmpty() && udpSpecs.isEmpty() && configFile == null && routeArgs.routes.isEmpty()) {
            return usage("nothing to forward: give -L [BIND:]PORT:HOST:HOSTPORT, -U ... or --config FILE");
        }
        if (connection.connectTimeoutMs <= 0 || connection.connectTimeoutMs > Integer.MAX_VALUE) {
            return usage("--connect-timeout must be 1ms to 596h, not " + DurationConverter.format(connection.connectTimeoutMs));
        }
        if (connection.maxConnections < 0) return usage("--max-connections must be 0 or more, not " + connection.maxConnections);
        if (performance.threads < 1 || performance.threads > 256) return usage("--threads must be 1-256, not " + performance.threads);
        if (connection.udpTimeoutMs < 1000) return usage("--udp-timeout must be 1s or more, not " + DurationConverter.format(connection.udpTimeoutMs));
        if (operation.drainTimeoutMs > 86_400_000L) return usage("--drain-timeout must be 0 to 24h, not " + DurationConverter.format(operation.drainTimeoutMs));
        if (operation.warmupMs > 60_000) return usage("--warmup must be 0 to 1m, not " + DurationConverter.format(operation.warmupMs));
        int drainTimeoutSec = DurationConverter.toSeconds(operation.drainTimeoutMs);
        if (connection.udpMaxSessions < 1) return usage("--udp-max-sessions must be 1 or more, not " + connection.udpMaxSessions);
        String clientProblem = clientArgs.problem();
        if (clientProblem != null) return usage(clientProblem);
        String proxyFromProblem = acceptProxyFrom.problem(clientArgs.acceptProxy);
        if (proxyFromProblem != null) return usage(proxyFromProblem);

        if (performance.pipeSize != null && !performance.splice) return usage("--pipe-size applies to --splice only");

        ProxyProtocol proxyProtocol;
        try {
            proxyProtocol = sendProxy.protocol();
        } catch (IllegalArgumentException e) {
            return usage("--send-proxy: " + e.getMessage());
        }

        org.epollproxy.forward.Balancing balancing;
        try {
            balancing = balanceArgs.toBalancing();
        } catch (IllegalArgumentException e) {
            return usage(e.getMessage());
        }

        SockAddr statsAddr = null;
        if (operation.stats != null) {
            try {
                statsAddr = StatsOption.parse(operation.stats);
            } catch (SpecException e) {
                return usage("--stats " + operation.stats + ": " + e.getMessage() + " (at character " + (e.position() + 1) + ")");
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
            prereadLimits = routeArgs.limits(connection.bufferSize);
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
        Settings.Builder builder = performance.applyTo(connection.applyTo(Settings.builder()))
                .trace(operation.trace)
                .logConnections(!operation.quiet);
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
            forwards = tls.apply(forwards, connection.bufferSize);
        } catch (IllegalArgumentException e) {
            return usage(e.getMessage());
        }
        org.epollproxy.runtime.Reresolver names = dynamicArgs.reresolver(err);
        forwards = names.expandAtStart(forwards, Resolver.takeAnswers()); // every address of each backend name, not asked twice
        String noRoom = FdBudget.check(forwards.size(), performance.threads, FdBudget.limit());
        if (noRoom != null) {
            err.println("epoll-proxy: " + noRoom);
            return 1; // as for any start the system refuses (address in use, ...): nothing is bound
        }

        ProxyServer proxy;
        StatsServer statsServer = null;
        Logs logs = new Logs(err);
        Takeover takeover = null;
        ControlServer control = null;
        boolean replaceControl = operation.takeoverPath != null && operation.takeoverPath.equals(operation.controlPath);
        try {
            Kernel kernel = Shim.load();
            String badPipeSize = performance.pipeSize == null ? null : PipeSizeCheck.problem(kernel, performance.pipeSize);
            if (badPipeSize != null) return usage(badPipeSize);
            // Before a takeover asks for the sockets: the old process serves meanwhile.
            if (!operation.trace && operation.warmupMs != 0) {
                org.epollproxy.runtime.Warmup.Result warm = org.epollproxy.runtime.Warmup.run(kernel, settings, operation.warmupMs);
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
                if (activated > 0 && operation.takeoverPath != null) return usage("--takeover and systemd socket activation (LISTEN_FDS) exclude each other");
                if (activated > 0 && performance.threads != 1) return usage("socket activation passes one socket per forward: use --threads 1");
                if (activated > 0) inherited = SocketActivation.adopt(kernel, activated, System.getenv("LISTEN_FDNAMES"), forwards);
            } catch (SocketActivation.Mismatch e) {
                return usage(e.getMessage());
            }
            if (operation.controlPath != null && !replaceControl) control = ControlServer.bind(kernel, operation.controlPath, false);
            if (operation.takeoverPath != null) {
                takeover = Takeover.request(kernel, operation.takeoverPath.toString(), performance.threads, forwards, 10_000);
                inherited = takeover.sockets();
            }
            if (statsAddr != null) statsServer = StatsServer.bind(statsAddr); // before the forwards: all or nothing
            Logs.Opened files = logs.open(config);
            proxy = new ProxyServer(kernel, settings, err);
            proxy.backendPool().setSlowStart(dynamicArgs.slowStartNanos());
            try {
                forwards = proxy.start(forwards, inherited);
                if (takeover != null) {
                    boolean heard = takeover.confirm(); // the old process drains from here on
                    err.println(org.epollproxy.forward.LogTime.now() + " takeover: " + takeover.describe()
                            + (heard ? "; that process drains now" : "; that process hung up before our 'ok' (a drain, a death, or its 10 s deadline: see its log): serving on"));
                }
                if (replaceControl) control = ControlServer.bind(kernel, operation.controlPath, true);
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
        Signals.Outcome onTerm = Signals.on("TERM", () -> {
            if (drainTimeoutSec == 0 || proxy.draining()) shutdown.stop(); // a second SIGTERM: now
            else shutdown.drain("SIGTERM");
        });
        Signals.on("INT", shutdown::stop); // ignored in a shell's background job: the shell's choice, no word
        names.start(proxy);
        Reloader reloader = new Reloader(names, proxy, args, configFile, logs, err, prereadLimits);
        if (config != null) reloader.dynamicAtStart(config.dynamic());
        reloader.withTls(tlsArgs, tls, connection.bufferSize);
        Signals.Outcome onHup = Signals.onHangup(reloader::requestReload);
        if (hupDuringStart.get()) reloader.requestReload(); // the file may have changed after it was read
        if (onTerm == Signals.Outcome.IGNORED_SINCE_START) err.println("epoll-proxy: SIGTERM is ignored (this process was started with it ignored): it does not drain or stop on SIGTERM");
        if (onTerm == Signals.Outcome.RESERVED) err.println("epoll-proxy: SIGTERM is the JVM's (-Xrs): it ends the process at once, without a drain");
        if (onHup == Signals.Outcome.IGNORED_SINCE_START) err.println("epoll-proxy: SIGHUP is ignored (this process was started with it ignored, as nohup does): no reload on SIGHUP");
        if (onHup == Signals.Outcome.RESERVED) err.println("epoll-proxy: SIGHUP is the JVM's (-Xrs): it ends the process at once, no reload");
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
