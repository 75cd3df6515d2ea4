package org.epollproxy.config;

import java.util.List;
import java.util.Map;

/**
 * A config file's TLS line ({@code tls-cert}, {@code tls-alpn}, {@code tls-client-ca[-optional]},
 * {@code backend-tls}, {@code backend-ca}, {@code backend-cert}): our extension, each line the command-line
 * option of the same name for the listener with that address ({@link Config#tls}).
 */
final class TlsLine extends ConfigLineReader {

    /** The TLS line keywords, each the command-line option of the same name, and how many words follow the port. */
    private static final Map<String, int[]> TLS_LINES = Map.of(
            "tls-cert", new int[] {2, 2}, "tls-alpn", new int[] {1, 1}, "tls-client-ca", new int[] {1, 1},
            "tls-client-ca-optional", new int[] {1, 1}, "backend-tls", new int[] {0, 1}, "backend-ca", new int[] {1, 1},
            "backend-cert", new int[] {2, 2});

    TlsLine(int lineNo) {
        this.lineNo = lineNo;
    }

    /**
     * {@code tls-cert bindaddress bindport CERT KEY}, {@code tls-alpn bindaddress bindport PROTO[,PROTO]},
     * {@code tls-client-ca[-optional] bindaddress bindport CA}, {@code backend-tls bindaddress bindport [NAME]},
     * {@code backend-ca bindaddress bindport CA}, {@code backend-cert bindaddress bindport CERT KEY}: the option
     * {@code --KEYWORD bindaddress:bindport:WORD[:WORD]}, for the listener with that address: {option, value}.
     */
    String[] option(String s, List<int[]> w, String keyword) throws SpecException {
        int[] n = TLS_LINES.get(keyword);
        if (w.size() < 3 + n[0] || w.size() > 3 + n[1]) {
            String args = keyword.endsWith("cert") ? " CERT KEY" : keyword.equals("tls-alpn") ? " PROTO[,PROTO...]"
                    : keyword.equals("backend-tls") ? " [NAME]" : " CA";
            throw error("expected \"" + keyword + " bindaddress bindport" + args + "\"", w.size() > 3 + n[1] ? w.get(3 + n[1])[0] : s.length());
        }
        String port = word(s, w.get(2));
        if (!port.matches("\\d{1,5}")) throw error("'" + port + "' is not a port number", w.get(2)[0]);
        String host = word(s, w.get(1));
        StringBuilder v = new StringBuilder(host.contains(":") ? "[" + host + "]" : host).append(':').append(port);
        for (int i = 3; i < w.size(); i++) v.append(':').append(fileName(s, w.get(i)));
        return new String[] {"--" + keyword, v.toString()};
    }
}
