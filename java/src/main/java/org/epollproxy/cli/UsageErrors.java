package org.epollproxy.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * What picocli's parse errors say on stderr. A mistyped option ({@code --thread 2}) is named alone, not
 * with the value after it (picocli lists every unmatched word), and picocli's own suggestions follow
 * ("Did you mean: epoll-proxy --threads?").
 */
final class UsageErrors {

    static String message(ParameterException ex) {
        if (ex instanceof UnmatchedArgumentException u && u.isUnknownOption()) {
            List<String> options = new ArrayList<>();
            for (String w : u.getUnmatched()) if (w.startsWith("-") && w.length() > 1 && !isNumber(w)) options.add("'" + w + "'");
            if (!options.isEmpty()) return "unknown option" + (options.size() > 1 ? "s " : " ") + String.join(", ", options);
        }
        return ex.getMessage();
    }

    /** picocli's "Did you mean" line for a mistyped option; nothing otherwise. */
    static void suggest(ParameterException ex, PrintStream err) {
        UnmatchedArgumentException.printSuggestions(ex, err);
    }

    private static boolean isNumber(String w) {
        return w.substring(1).chars().allMatch(c -> c >= '0' && c <= '9');
    }

    private UsageErrors() {}
}
