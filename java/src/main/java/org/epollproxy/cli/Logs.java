package org.epollproxy.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.epollproxy.config.Config;
import org.epollproxy.runtime.ProxyServer;
import org.epollproxy.forward.RinetdLog;

/**
 * The config file's {@code logfile}/{@code logcommon} and {@code pidlogfile}: opened at start, reopened
 * on every reload (so logrotate can move the file and send SIGHUP), removed/closed at exit.
 */
final class Logs {
    private final PrintStream err;
    private RinetdLog rinetdLog;
    private Path pidFile;

    Logs(PrintStream err) {
        this.err = err;
    }

    /** The files a config names, opened (and the pid written) but not yet in use. */
    record Opened(RinetdLog rinetdLog, Path pidFile) {
        void discard() {
            if (rinetdLog != null) rinetdLog.close();
        }
    }

    /** Opens the config's log file and writes its pid file; nothing changes for the running proxy yet. */
    Opened open(Config config) throws IOException {
        Path logPath = config == null || config.logFile() == null ? null : Path.of(config.logFile());
        RinetdLog log = logPath == null ? null : new RinetdLog(logPath, config.logCommon());
        Path pid = config == null || config.pidFile() == null ? null : Path.of(config.pidFile());
        try {
            if (pid != null) Files.writeString(pid, ProcessHandle.current().pid() + "\n", StandardCharsets.US_ASCII);
        } catch (IOException e) {
            if (log != null) log.close();
            throw new IOException("cannot write pidlogfile " + pid + ": " + e.getMessage(), e);
        }
        return new Opened(log, pid);
    }

    /** Makes {@code next} current: every loop writes to the new log; the old one is closed. */
    synchronized void install(ProxyServer proxy, Opened next) {
        proxy.setRinetdLog(next.rinetdLog());
        if (rinetdLog != null) rinetdLog.close();
        rinetdLog = next.rinetdLog();
        if (pidFile != null && !pidFile.equals(next.pidFile())) deleteQuietly(pidFile);
        pidFile = next.pidFile();
    }

    synchronized void close() {
        if (rinetdLog != null) rinetdLog.close();
        rinetdLog = null;
        if (pidFile != null) deleteQuietly(pidFile);
        pidFile = null;
    }

    private void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            err.println("epoll-proxy: cannot remove pid file " + p + ": " + e.getMessage());
        }
    }
}
