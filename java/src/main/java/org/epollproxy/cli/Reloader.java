package org.epollproxy.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.epollproxy.config.Config;
import org.epollproxy.config.ConfigParser;
import org.epollproxy.forward.Forward;
import org.epollproxy.runtime.ProxyServer;
import org.epollproxy.shim.SyscallException;

/**
 * SIGHUP: re-read the config file and make it the running configuration, or, if anything is wrong
 * (a line that does not parse, a host that does not resolve, an address that cannot be bound), say so
 * and keep running exactly as before. rinetd exits on a bad file at reload; we must not.
 *
 * <p>Reloads run one at a time on their own thread, never on the signal thread or a loop thread.
 */
final class Reloader {
    private final ProxyServer proxy;
    /** Reloads go through it: backend names expand to all their addresses. */
    private final org.epollproxy.runtime.Reresolver names;
    /** The file's resolver, resolve_interval and slow_start lines as read at start (a reload does not change them). */
    private org.epollproxy.config.DynamicOptions dynamicAtStart = org.epollproxy.config.DynamicOptions.NONE;
    private final List<Forwards.Arg> cliArgs;
    private final Path configFile;
    private final Logs logs;
    private final PrintStream err;
    /** --preread-max, --preread-timeout, --route-ssh-wait: for the routes of the file read again. */
    private final org.epollproxy.forward.PrereadLimits limits;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "epoll-proxy-reload");
        t.setDaemon(true);
        return t;
    });

    Reloader(org.epollproxy.runtime.Reresolver names, ProxyServer proxy, List<Forwards.Arg> cliArgs, Path configFile, Logs logs,
            PrintStream err, org.epollproxy.forward.PrereadLimits limits) {
        this.names = names;
        this.limits = limits;
        this.proxy = proxy;
        this.cliArgs = cliArgs;
        this.configFile = configFile;
        this.logs = logs;
        this.err = err;
    }

    /** The config file's resolver, resolve_interval and slow_start as the process started with them. */
    void dynamicAtStart(org.epollproxy.config.DynamicOptions d) {
        dynamicAtStart = d;
    }

    /** The TLS options: certificates read again on SIGHUP, and given to the forwards of the file read again. */
    private TlsArgs tls;
    /** The TLS in use: without a config file SIGHUP re-reads its files in place; a config reload keeps its objects where the setup is the same. */
    private TlsArgs running;
    private int bufferSize;

    /** {@code t}: the command line's TLS options; {@code running}: those in use since start. */
    void withTls(TlsArgs t, TlsArgs running, int bufferSize) {
        this.tls = t;
        this.running = running;
        this.bufferSize = bufferSize;
    }

    void requestReload() {
        worker.execute(this::reload);
    }

    private void say(String msg) {
        err.println(org.epollproxy.forward.LogTime.now() + " reload: " + msg);
        err.flush();
    }

    private void reload() {
        if (configFile == null) {
            // Only the certificate files to read again; with a config file they are read with it, below.
            if (running != null && running.any()) running.reloadCertificates(err);
            else say("SIGHUP ignored: no --config file to re-read");
            return;
        }
        String keeping = "; keeping the running configuration";
        Config config;
        try {
            config = ConfigParser.parse(configFile);
        } catch (org.epollproxy.config.SpecException e) {
            say(Main.configMessage(configFile, e) + keeping);
            return;
        } catch (IOException e) {
            say("cannot read " + configFile + ": " + IoErrors.reason(e) + keeping);
            return;
        }
        if (!config.dynamic().equals(dynamicAtStart)) {
            say(configFile + ": resolver, resolve_interval and slow_start are read at start only: the running process keeps "
                    + "its values (restart, or --takeover, to change them)");
        }
        List<Forward> desired;
        TlsArgs nextTls = null;
        try {
            desired = Forwards.build(cliArgs, config, limits);
            if (tls != null) {
                // The listeners set up as before keep their TLS objects (counters, sessions); their files are staged.
                nextTls = tls.withConfig(config).reusing(running);
                desired = nextTls.apply(desired, bufferSize);
            }
        } catch (Resolver.ResolveException e) {
            say(e.getMessage() + keeping);
            return;
        } catch (IllegalArgumentException e) {
            say(e.getMessage() + keeping);
            return;
        }
        String dup = Forwards.duplicate(desired);
        if (dup != null) {
            say(dup + keeping);
            return;
        }
        Logs.Opened files;
        try {
            files = logs.open(config);
        } catch (IOException e) {
            say(e.getMessage() + keeping);
            return;
        }
        try {
            java.util.Map<String, Forward> before = new java.util.HashMap<>();
            for (Forward f : proxy.forwards()) before.put(f.key(), f);
            String summary = names.reconfigure(desired, Resolver.takeAnswers()); // the names' answers just got: not asked twice
            logs.install(proxy, files);
            say(configFile + ": " + summary);
            if (nextTls != null) {
                for (String line : nextTls.commit()) say(line);
                running = nextTls;
            }
            for (Forward f : proxy.forwards()) { // only what changed: an unchanged forward was already announced
                Forward old = before.get(f.key());
                if (old == null || !old.sameTargetAs(f)) say(Forwards.listeningLine(f));
            }
        } catch (SyscallException | IllegalArgumentException | IllegalStateException e) {
            files.discard();
            say(e.getMessage() + keeping);
        } catch (InterruptedException e) {
            files.discard();
            Thread.currentThread().interrupt();
        }
    }
}
