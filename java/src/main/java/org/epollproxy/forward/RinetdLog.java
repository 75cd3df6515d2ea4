package org.epollproxy.forward;

import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * rinetd's {@code logfile}: one line per connection, tab-separated (date, client, bind host, bind port,
 * target host, target port, bytes from client, bytes to client, result), or with {@code logcommon} the
 * Apache-style line rinetd writes for web log analysers. The file is opened in append mode and written a
 * line at a time from whichever loop ends the connection (so lines never interleave).
 */
public final class RinetdLog implements AutoCloseable {
    private static final DateTimeFormatter DATE =
            DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ENGLISH);

    private final Path path;
    private final boolean common;
    private final FileOutputStream out;

    public RinetdLog(Path path, boolean common) throws IOException {
        this.path = path;
        this.common = common;
        try {
            this.out = new FileOutputStream(path.toFile(), true);
        } catch (IOException e) {
            throw new IOException("cannot open logfile " + path + ": " + e.getMessage(), e);
        }
    }

    public Path path() {
        return path;
    }

    public boolean common() {
        return common;
    }

    /** rinetd's result word ("remote" is the client, "local" the backend); our own words where rinetd has none. */
    static String result(EndReason r) {
        switch (r) {
            case CLIENT_CLOSED:
            case CLIENT_RESET:
                return "done-remote-closed";
            case BACKEND_CLOSED:
            case BACKEND_RESET:
                return "done-local-closed";
            case BACKEND_REFUSED:
            case BACKEND_UNREACHABLE:
            case CONNECT_TIMEOUT:
                return "local-connect-failed -";
            default:
                return r.text(); // denied, not-allowed, idle-timeout, fin-timeout, shutdown, error
        }
    }

    String format(ConnectionRecord r, ZonedDateTime when) {
        Forward f = r.forward();
        // No backend tried and none of its own: a listener with routes only, whose client no route took.
        Backend b = r.backend() != null ? r.backend() : f.backends().isEmpty() ? null : f.backends().get(0);
        String target = b != null ? b.host() : "-";
        int targetPort = b != null ? b.address().port() : 0;
        String client = r.client().hostText();
        String date = DATE.format(when);
        if (common) {
            return client + " - - [" + date + "] \"GET /rinetd-services/" + f.bind().hostText() + "/" + f.bind().port()
                    + "/" + target + "/" + targetPort + "/" + result(r.reason()) + " HTTP/1.0\" 200 " + r.down()
                    + " - - - " + r.up() + "\n";
        }
        return date + "\t" + client + "\t" + f.bind().hostText() + "\t" + f.bind().port() + "\t" + target + "\t"
                + targetPort + "\t" + r.up() + "\t" + r.down() + "\t" + result(r.reason()) + "\n";
    }

    public void write(ConnectionRecord r) {
        byte[] line = format(r, ZonedDateTime.now()).getBytes(StandardCharsets.UTF_8);
        synchronized (this) {
            try {
                out.write(line);
            } catch (IOException e) {
                // A full disk must not stop forwarding; stderr still has the line.
            }
        }
    }

    @Override
    public synchronized void close() {
        try {
            out.close();
        } catch (IOException ignored) {
            // nothing more to write
        }
    }
}
