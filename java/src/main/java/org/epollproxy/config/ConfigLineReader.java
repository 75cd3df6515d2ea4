package org.epollproxy.config;

import java.util.ArrayList;
import java.util.List;

/**
 * The reading of one config file line that every directive's parser shares: its words, each as the
 * [start, end) of its characters so that an error can name its column, and errors that carry the line.
 * {@link ConfigParser} reads the file line by line and parses the short directives itself; the forward
 * and route lines ({@link ForwardLine}) and the TLS lines ({@link TlsLine}) have parsers of their own.
 */
abstract class ConfigLineReader {
    /** The 1-based number of the line being parsed, for errors. */
    int lineNo;

    SpecException error(String msg, int column) {
        return new SpecException(msg, column, lineNo);
    }

    /** [start, end) of each whitespace-separated word before a '#' comment (outside double quotes). */
    static List<int[]> words(String s) {
        List<int[]> w = words(s, 4);
        boolean unix = !w.isEmpty() && (ForwardSpec.isPath(word(s, w.get(0))) || (w.size() > 2 && ForwardSpec.isPath(word(s, w.get(2)))));
        return unix ? words(s, 2) : w; // a UNIX socket path is one word where an address and a port are two
    }

    /** As {@link #words(String)}, an option list in brackets starting at word {@code optionsFrom} or later. */
    static List<int[]> words(String s, int optionsFrom) {
        List<int[]> out = new ArrayList<>();
        int i = 0;
        int n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            if (c == '#') break;
            if (c == ' ' || c == '\t' || c == '\r') {
                i++;
                continue;
            }
            int start = i;
            if (c == '"') {
                int close = s.indexOf('"', i + 1);
                i = close < 0 ? n : close + 1;
            } else if (c == '[' && out.size() >= optionsFrom) {
                // an option list may contain blanks and bracketed IPv6: "[timeout=10, failover=[::1]:80]"
                int depth = 0;
                while (i < n) {
                    char d = s.charAt(i++);
                    if (d == '[') depth++;
                    else if (d == ']' && --depth == 0) break;
                }
            } else {
                while (i < n && " \t\r#".indexOf(s.charAt(i)) < 0) i++;
            }
            out.add(new int[] {start, i});
        }
        return out;
    }

    void expect(String s, List<int[]> w, int n, String form) throws SpecException {
        if (w.size() != n) {
            int col = w.size() > n ? w.get(n)[0] : s.length();
            throw error("expected \"" + form + "\"" + (w.size() > n ? ", found extra \"" + word(s, w.get(n)) + "\"" : ""), col);
        }
    }

    static String word(String s, int[] r) {
        return s.substring(r[0], r[1]);
    }

    String fileName(String s, int[] r) throws SpecException {
        String f = word(s, r);
        if (f.startsWith("\"")) {
            if (f.length() < 3 || !f.endsWith("\"")) throw error("unterminated or empty quoted file name", r[0]);
            f = f.substring(1, f.length() - 1);
        }
        return f;
    }
}
