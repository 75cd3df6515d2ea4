package org.epollproxy.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.epollproxy.config.OptionValues;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.tls.PemFiles;
import org.epollproxy.forward.tls.TlsServer;
import picocli.CommandLine.Option;

/**
 * The command line's TLS options (a picocli mixin of {@link Main}): which TCP listeners terminate TLS, with
 * which certificates, ALPN protocols and client-certificate policy. Keyed by the listener's port, as
 * {@code --route} is. The certificates are read once at start ({@link #apply}) and again on SIGHUP
 * ({@link #reloadCertificates}); each listener keeps one {@link TlsServer}, so a config reload leaves the TLS
 * of an unchanged listener as it is.
 */
final class TlsArgs {
    /** A TLS record (16 KiB of data plus its overhead) must fit one forwarding buffer. */
    static final int MIN_BUFFER = 17 * 1024;

    @Option(names = "--tls-cert", paramLabel = "[BIND:]PORT:CERT.pem:KEY.pem",
            description = "Terminate TLS on the TCP listener [BIND:]PORT with the certificate chain in CERT.pem (server "
                    + "certificate first) and its private key in KEY.pem (PEM: PKCS#8, or RSA/EC PRIVATE KEY; unencrypted). "
                    + "Repeatable: several certificates for one port are chosen by the client's SNI (subjectAltName DNS "
                    + "names, wildcards), the first is the default. TLS 1.2 and 1.3, AEAD suites with forward secrecy only. "
                    + "SIGHUP re-reads the files. E.g. --tls-cert 443:/etc/ssl/site.pem:/etc/ssl/site.key.")
    List<String> certs = new ArrayList<>();

    @Option(names = "--tls-alpn", paramLabel = "[BIND:]PORT:PROTO[,PROTO...]",
            description = "ALPN protocols the TLS listener offers, preferred first; a client offering none of them gets "
                    + "no ALPN (not a failed handshake). E.g. --tls-alpn 443:h2,http/1.1 (default: none).")
    List<String> alpn = new ArrayList<>();

    @Option(names = "--tls-client-ca", paramLabel = "[BIND:]PORT:CA.pem",
            description = "Require a client certificate issued by a CA in CA.pem (mutual TLS); a client without a valid "
                    + "one is refused during the handshake (end=tls-handshake), e.g. 443:/etc/epoll-proxy/clients-ca.pem.")
    List<String> clientCa = new ArrayList<>();

    @Option(names = "--tls-client-ca-optional", paramLabel = "[BIND:]PORT:CA.pem",
            description = "Ask for a client certificate issued by a CA in CA.pem, but let clients without one in "
                    + "(an invalid one is still refused). The subject is logged either way. E.g. 443:clients-ca.pem.")
    List<String> clientCaOptional = new ArrayList<>();

    @Option(names = "--tls-handshake-timeout", paramLabel = "DURATION", defaultValue = "10s",
            description = "Close a TLS client whose handshake is not done after DURATION (seconds, or 500ms; "
                    + "end=tls-handshake; default: ${DEFAULT-VALUE}).")
    String handshakeTimeout;

    @Option(names = "--backend-tls", paramLabel = "[BIND:]PORT[:NAME]",
            description = "The forward on [BIND:]PORT reaches its backends over TLS (a plain client in, TLS out): the "
                    + "backend's certificate must be valid for NAME (default: each backend's host as given in -L), which is "
                    + "also sent as SNI; verified against the system trust store or --backend-ca. Failures end the "
                    + "connection with end=backend-tls. E.g. --backend-tls 6379:redis.internal.")
    List<String> backendTls = new ArrayList<>();

    @Option(names = "--backend-ca", paramLabel = "[BIND:]PORT:CA.pem",
            description = "With --backend-tls: trust only the CAs in CA.pem for that forward's backends (default: the "
                    + "Java runtime's trust store), e.g. 5432:/etc/epoll-proxy/backends-ca.pem.")
    List<String> backendCa = new ArrayList<>();

    @Option(names = "--backend-cert", paramLabel = "[BIND:]PORT:CERT.pem:KEY.pem",
            description = "With --backend-tls: the client certificate to show backends that ask for one (default: none), "
                    + "e.g. 5432:proxy.pem:proxy.key.")
    List<String> backendCert = new ArrayList<>();

    /** The forwards' backend TLS, by "[BIND:]PORT"; filled by {@link #apply}. */
    private final Map<String, org.epollproxy.forward.tls.TlsClient> clients = new LinkedHashMap<>();

    /** The listeners' TLS, by "[BIND:]PORT" as given; filled by {@link #apply}. */
    private final Map<String, TlsServer> servers = new LinkedHashMap<>();
    /** The same keys, parsed. */
    private final Map<String, Keyed> where = new LinkedHashMap<>();

    /**
     * The TLS in use before this config reload, or null: a listener (or backend forward) set up as before keeps
     * its object, counters and sessions, its files staged until {@link #commit}.
     */
    private TlsArgs previous;
    /** The files read for the kept objects, put in use by {@link #commit} once the whole reload succeeded. */
    private final List<Runnable> commits = new ArrayList<>();
    private final List<String> commitLines = new ArrayList<>();

    /** A config reload: keep what {@code running} has where the setup is the same. Returns this. */
    TlsArgs reusing(TlsArgs running) {
        this.previous = running;
        return this;
    }

    /**
     * The reload succeeded: the files staged for the kept objects go in use. Returns the lines to log, one per
     * certificate or CA that changed.
     */
    List<String> commit() {
        commitLines.clear();
        for (Runnable r : commits) r.run();
        commits.clear();
        previous = null; // no chain of old configurations kept alive
        return List.copyOf(commitLines);
    }

    /** "[BIND:]PORT" and the rest of an option's value, split at the port. */
    record Keyed(String bind, int port, String rest) {}

    static Keyed split(String option, String value) {
        String v = value;
        String bind = null;
        if (v.startsWith("[")) { // [::1]:PORT:...
            int close = v.indexOf("]:");
            if (close < 0) throw new IllegalArgumentException(option + " " + value + ": an IPv6 BIND goes in brackets: [::1]:PORT:...");
            bind = v.substring(1, close);
            v = v.substring(close + 2);
        }
        String[] parts = v.split(":", -1);
        int i = 0;
        if (bind == null && parts.length > 1 && !parts[0].matches("\\d+")) bind = parts[i++];
        int port;
        try {
            port = Integer.parseInt(parts[i]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " " + value + ": '" + parts[i] + "' is not a port number");
        }
        if (port < 1 || port > 65535) throw new IllegalArgumentException(option + " " + value + ": port " + port + " is outside 1-65535");
        String rest = String.join(":", Arrays.copyOfRange(parts, i + 1, parts.length));
        if (rest.isEmpty()) throw new IllegalArgumentException(option + " " + value + ": nothing after the port");
        return new Keyed(bind == null ? null : bind.equals("*") ? "0.0.0.0" : bind, port, rest);
    }

    private static String key(Keyed k) {
        return (k.bind() == null ? "" : k.bind() + ":") + k.port();
    }

    /** The forward that listens where {@code k} says, or null. */
    private static boolean matches(Keyed k, Forward f) {
        if (f.proto() != Forward.Proto.TCP || f.bind().isUnix() || f.routeName() != null || f.bind().port() != k.port()) return false;
        return k.bind() == null || k.bind().equalsIgnoreCase(f.bind().hostText()) || k.bind().equals("localhost") && f.bind().hostText().equals("127.0.0.1");
    }

    /**
     * These options plus the config file's TLS lines ({@code config} may be null: then this object). A new
     * object: its certificates are read afresh by {@link #apply}, as the file's forwards are.
     */
    TlsArgs withConfig(org.epollproxy.config.Config config) {
        if (config == null) return this;
        TlsArgs t = new TlsArgs();
        t.handshakeTimeout = handshakeTimeout;
        t.certs.addAll(certs);
        t.alpn.addAll(alpn);
        t.clientCa.addAll(clientCa);
        t.clientCaOptional.addAll(clientCaOptional);
        t.backendTls.addAll(backendTls);
        t.backendCa.addAll(backendCa);
        t.backendCert.addAll(backendCert);
        for (String[] o : config.tls()) {
            switch (o[0]) {
                case "--tls-cert" -> t.certs.add(o[1]);
                case "--tls-alpn" -> t.alpn.add(o[1]);
                case "--tls-client-ca" -> t.clientCa.add(o[1]);
                case "--tls-client-ca-optional" -> t.clientCaOptional.add(o[1]);
                case "--backend-tls" -> t.backendTls.add(o[1]);
                case "--backend-ca" -> t.backendCa.add(o[1]);
                case "--backend-cert" -> t.backendCert.add(o[1]);
                default -> throw new IllegalArgumentException("unknown TLS line " + o[0]);
            }
        }
        return t;
    }

    boolean any() {
        return !certs.isEmpty() || !backendTls.isEmpty();
    }

    /**
     * Reads the certificates (the first call) and gives each forward named by --tls-cert its TLS. Throws
     * IllegalArgumentException with a one-line message for a bad option, a port without a TCP listener, or a
     * file that cannot be used.
     */
    List<Forward> apply(List<Forward> forwards, int bufferSize) {
        forwards = applyBackendTls(forwards, bufferSize);
        if (certs.isEmpty()) {
            for (List<String> l : List.of(alpn, clientCa, clientCaOptional)) {
                if (!l.isEmpty()) throw new IllegalArgumentException("--tls-alpn and --tls-client-ca need a --tls-cert for the same port");
            }
            return forwards;
        }
        if (servers.isEmpty()) load(bufferSize);
        List<Forward> out = new ArrayList<>();
        for (Forward f : forwards) {
            TlsServer t = null;
            for (Map.Entry<String, TlsServer> e : servers.entrySet()) {
                if (matches(where.get(e.getKey()), f)) t = e.getValue();
            }
            out.add(t == null ? f : f.withTls(t));
        }
        for (String k : servers.keySet()) {
            boolean found = false;
            for (Forward f : forwards) found |= matches(where.get(k), f);
            if (!found) throw new IllegalArgumentException("--tls-cert " + k + ": no TCP listener (-L or config line) on " + k);
        }
        return out;
    }

    /** --backend-tls, --backend-ca, --backend-cert: the forwards that reach their backends over TLS. */
    private List<Forward> applyBackendTls(List<Forward> forwards, int bufferSize) {
        if (backendTls.isEmpty()) {
            if (!backendCa.isEmpty() || !backendCert.isEmpty()) throw new IllegalArgumentException("--backend-ca and --backend-cert need a --backend-tls for the same port");
            return forwards;
        }
        if (clients.isEmpty()) {
            if (bufferSize < MIN_BUFFER) {
                throw new IllegalArgumentException("--backend-tls needs --buffer-size 17k or more (a TLS record must fit one buffer), not " + bufferSize);
            }
            Map<String, String> names = new LinkedHashMap<>();
            for (String v : backendTls) {
                Keyed k = v.matches("(\\[[^]]*]:|[^:]*:)?\\d+") ? split("--backend-tls", v + ":-") : split("--backend-tls", v);
                where.put(key(k), k);
                names.put(key(k), k.rest().equals("-") ? null : k.rest());
            }
            Map<String, List<String>> cas = byPort("--backend-ca", backendCa, names);
            Map<String, List<String>> certFiles = byPort("--backend-cert", backendCert, names);
            for (Map.Entry<String, String> e : names.entrySet()) {
                String ca = last(cas.get(e.getKey()));
                String cert = last(certFiles.get(e.getKey()));
                TlsServer.CertFiles cf = null;
                if (cert != null) {
                    int colon = cert.lastIndexOf(':');
                    if (colon <= 0) throw new IllegalArgumentException("--backend-cert " + e.getKey() + ":" + cert + ": expected [BIND:]PORT:CERT.pem:KEY.pem");
                    cf = new TlsServer.CertFiles(Path.of(cert.substring(0, colon)), Path.of(cert.substring(colon + 1)));
                }
                try {
                    Path caPath = ca == null ? null : Path.of(ca);
                    org.epollproxy.forward.tls.TlsClient old = previous == null ? null : previous.clients.get(e.getKey());
                    if (old != null && old.sameSetup(e.getValue())) {
                        org.epollproxy.forward.tls.TlsClient.Staged staged = old.stage(caPath, cf);
                        commits.add(() -> {
                            String line = old.commit(staged);
                            if (line != null) commitLines.add(line);
                        });
                        clients.put(e.getKey(), old);
                    } else {
                        clients.put(e.getKey(), new org.epollproxy.forward.tls.TlsClient(e.getKey(), e.getValue(), caPath, cf, old == null ? null : old.metrics()));
                    }
                } catch (PemFiles.BadPem b) {
                    throw new IllegalArgumentException("--backend-tls " + e.getKey() + ": " + b.getMessage());
                }
            }
        }
        List<Forward> out = new ArrayList<>();
        for (Forward f : forwards) {
            org.epollproxy.forward.tls.TlsClient c = null;
            for (Map.Entry<String, org.epollproxy.forward.tls.TlsClient> e : clients.entrySet()) if (matches(where.get(e.getKey()), f)) c = e.getValue();
            out.add(c == null ? f : f.withBackendTls(c));
        }
        for (String k : clients.keySet()) {
            boolean found = false;
            for (Forward f : forwards) found |= matches(where.get(k), f);
            if (!found) throw new IllegalArgumentException("--backend-tls " + k + ": no TCP forward (-L or config line) on " + k);
        }
        return out;
    }

    private void load(int bufferSize) {
        if (bufferSize < MIN_BUFFER) {
            throw new IllegalArgumentException("--tls-cert needs --buffer-size 17k or more (a TLS record must fit one buffer), not " + bufferSize);
        }
        int timeout;
        try {
            timeout = OptionValues.millis(handshakeTimeout);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--tls-handshake-timeout: " + e.getMessage());
        }
        Map<String, List<TlsServer.CertFiles>> files = new LinkedHashMap<>();
        for (String c : certs) {
            Keyed k = split("--tls-cert", c);
            int colon = k.rest().lastIndexOf(':');
            if (colon <= 0 || colon == k.rest().length() - 1) {
                throw new IllegalArgumentException("--tls-cert " + c + ": expected [BIND:]PORT:CERT.pem:KEY.pem");
            }
            where.put(key(k), k);
            files.computeIfAbsent(key(k), x -> new ArrayList<>())
                    .add(new TlsServer.CertFiles(Path.of(k.rest().substring(0, colon)), Path.of(k.rest().substring(colon + 1))));
        }
        Map<String, List<String>> protocols = byPort("--tls-alpn", alpn, files);
        Map<String, List<String>> required = byPort("--tls-client-ca", clientCa, files);
        Map<String, List<String>> requested = byPort("--tls-client-ca-optional", clientCaOptional, files);
        for (Map.Entry<String, List<TlsServer.CertFiles>> e : files.entrySet()) {
            String port = e.getKey();
            List<String> ps = new ArrayList<>();
            for (String v : protocols.getOrDefault(port, List.of())) {
                for (String p : v.split(",")) if (!p.isBlank()) ps.add(p.trim());
            }
            String ca = last(required.get(port));
            String caOpt = last(requested.get(port));
            if (ca != null && caOpt != null) throw new IllegalArgumentException("--tls-client-ca and --tls-client-ca-optional both name port " + port + ": choose one");
            Path caPath = ca != null ? Path.of(ca) : caOpt != null ? Path.of(caOpt) : null;
            TlsServer.ClientAuth auth = ca != null ? TlsServer.ClientAuth.REQUIRE : TlsServer.ClientAuth.REQUEST;
            try {
                TlsServer old = previous == null ? null : previous.servers.get(port);
                if (old != null && old.sameSetup(e.getValue().size(), ps, caPath, auth, timeout)) {
                    TlsServer.Staged staged = old.stage(e.getValue(), caPath);
                    commits.add(() -> commitLines.addAll(old.commit(staged)));
                    servers.put(port, old); // the same object: the forward is unchanged, not announced again
                } else {
                    servers.put(port, new TlsServer(port, e.getValue(), ps, caPath, auth, timeout, old == null ? null : old.metrics()));
                }
            } catch (PemFiles.BadPem b) {
                throw new IllegalArgumentException("--tls-cert " + port + ": " + b.getMessage());
            }
        }
    }

    private static String last(List<String> l) {
        return l == null || l.isEmpty() ? null : l.get(l.size() - 1);
    }

    /** The option's values by "[BIND:]PORT"; each must name a port that has a --tls-cert. */
    private static Map<String, List<String>> byPort(String option, List<String> values, Map<String, ?> tlsPorts) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (String v : values) {
            Keyed k = split(option, v);
            if (!tlsPorts.containsKey(key(k))) throw new IllegalArgumentException(option + " " + v + ": no --tls-cert for " + key(k));
            out.computeIfAbsent(key(k), x -> new ArrayList<>()).add(k.rest());
        }
        return out;
    }

    /** SIGHUP without a config file: every TLS listener reads its files again; what changed, or why not, on {@code err}. */
    void reloadCertificates(PrintStream err) {
        for (TlsServer t : servers.values()) {
            for (String line : t.reload()) err.println(org.epollproxy.forward.LogTime.now() + " reload: " + line);
        }
        for (org.epollproxy.forward.tls.TlsClient c : clients.values()) {
            err.println(org.epollproxy.forward.LogTime.now() + " reload: " + c.reload());
        }
        err.flush();
    }
}
